"""A minimal OpenAI-compatible streaming server for benchmarks (run as its own process).

`POST /v1/chat/completions` waits `BENCH_FIRST_TOKEN_MS` (a model's think time), then streams
`BENCH_TOKENS` tokens at `BENCH_RATE` tokens/s per stream, each a few characters, with the usage
chunk and `[DONE]` the real API sends.
"""
from __future__ import annotations

import asyncio
import os
import sys

import orjson
from aiohttp import web

TOKENS = int(os.environ.get("BENCH_TOKENS", "100"))
RATE = float(os.environ.get("BENCH_RATE", "50"))
FIRST_TOKEN_S = float(os.environ.get("BENCH_FIRST_TOKEN_MS", "200")) / 1000


async def completions(request: web.Request) -> web.StreamResponse:
    body = orjson.loads(await request.read())
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": body.get("model")}
    interval = 1.0 / RATE
    loop = asyncio.get_running_loop()
    start = loop.time() + FIRST_TOKEN_S
    for i in range(TOKENS):
        # a fixed schedule, so a slow consumer does not slow the producer's clock
        delay = start + i * interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        chunk = {**base, "choices": [{"index": 0, "delta": {"content": f" tok{i}"},
                                      "finish_reason": None}]}
        await response.write(b"data: " + orjson.dumps(chunk) + b"\n\n")
    await response.write(b"data: " + orjson.dumps({**base, "choices": [
        {"index": 0, "delta": {}, "finish_reason": "stop"}]}) + b"\n\n")
    await response.write(b"data: " + orjson.dumps({**base, "choices": [], "usage": {
        "prompt_tokens": 10, "completion_tokens": TOKENS, "total_tokens": TOKENS + 10}}) + b"\n\n")
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


if __name__ == "__main__":
    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    app.router.add_get("/healthz", health)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
