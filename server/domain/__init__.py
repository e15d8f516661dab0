"""Domain services: plain async Python over storage, providers and protocol. No aiohttp here."""
