"""The aiohttp transport: REST routes, the WebSocket session, middlewares, app assembly."""
from .app import create_app

__all__ = ["create_app"]
