"""The baseline for idle memory: a bare aiohttp WebSocket server that accepts and holds sockets
(same heartbeat as Chatwire's), nothing else."""
import sys

from aiohttp import web


async def handler(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    await ws.send_str('{"type":"hello"}')
    async for _ in ws:
        pass
    return ws


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


app = web.Application()
app.router.add_get("/ws", handler)
app.router.add_get("/healthz", healthz)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
