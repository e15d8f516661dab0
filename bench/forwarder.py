"""The floor: a bare aiohttp SSE→WebSocket forwarder (run as its own process).

A socket sends any text frame; the forwarder opens a stream to the provider and sends one
WebSocket frame per token, with no auth, storage, coalescing or accounting.
"""
from __future__ import annotations

import sys

import aiohttp
import orjson
from aiohttp import web

UPSTREAM = sys.argv[2]


async def ws_handler(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    session: aiohttp.ClientSession = request.app["session"]
    async for msg in ws:
        if msg.type != aiohttp.WSMsgType.TEXT:
            break
        async with session.post(f"{UPSTREAM}/v1/chat/completions", json={
                "model": "bench", "stream": True, "messages": [{"role": "user", "content": "go"}]
        }) as resp:
            async for line in resp.content:
                if not line.startswith(b"data: "):
                    continue
                payload = line[6:].strip()
                if payload == b"[DONE]":
                    break
                chunk = orjson.loads(payload)
                for choice in chunk.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        await ws.send_str(orjson.dumps({"type": "delta", "delta": text}).decode())
        await ws.send_str('{"type":"done"}')
    return ws


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def on_startup(app: web.Application) -> None:
    app["session"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


async def on_cleanup(app: web.Application) -> None:
    await app["session"].close()


if __name__ == "__main__":
    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    app.router.add_get("/healthz", health)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
