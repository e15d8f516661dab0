"""Chatwire server: the aiohttp transport (`server.web`), the domain services (`server.domain`,
which never imports aiohttp) and the event broker (`server.broker`)."""
