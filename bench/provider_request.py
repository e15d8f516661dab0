"""CPU per streamed request: the SDK building and sending it, against the request prepared once.

Against bench/fake_provider.py (2 tokens, no think time), one request at a time, in this process:
  sdk       the OpenAI SDK's raw `post(..., stream=True)` over its aiohttp transport, the body read
            from the aiohttp response under it (providers/sse.body) — the provider before the
            prepared request (issue #26);
  prepared  `OpenAIChatProvider.stream` today: providers/prepared.py over aiohttp.
Both decode the same chunks with the same reader, so the difference is building, sending and
receiving one request. The two run in alternating rounds (a drift of the shared machine lands on
both); prints one JSON line with µs of this process's CPU per request, each round's and pooled,
and the ratio.

    .venv/bin/python bench/provider_request.py                 # ~20 s
    .venv/bin/python bench/provider_request.py --rounds 4 --requests 200   # a quick look

`--vendor gemini`: the same for Gemini, against tests/fakes/vendors.py's Gemini endpoint (in its
own process, 2 tokens): `sdk` is google-genai's `generate_content_stream` with its chunks read as
providers/gemini.py read them before; `prepared` is `GeminiProvider.stream` today.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from contextlib import aclosing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2  # noqa: E402

from bench.common import free_port, spawn, stop, wait_http  # noqa: E402
from providers.base import ChatMessage, GenerationRequest, StreamEnd  # noqa: E402
from providers.openai_chat import OpenAIChatProvider, _Chunks  # noqa: E402
from providers.sse import body  # noqa: E402

REQUEST = GenerationRequest(model="gpt-4o-mini", system="Be brief.", max_tokens=64,
                            messages=[ChatMessage("user", "Привет! How are you today?")])
FAKE_ENV = {"BENCH_TOKENS": "2", "BENCH_FIRST_TOKEN_MS": "0", "BENCH_RATE": "100000"}


async def via_sdk(provider: OpenAIChatProvider) -> int:
    """The provider's stream as it was: the SDK's request, our reader."""
    chunks = _Chunks(provider.name)
    items = 0
    response = await provider.client.post(
        "/chat/completions", body=provider._body(REQUEST), cast_to=httpx2.Response, stream=True,
        options={"timeout": httpx2.Timeout(None, connect=10.0, pool=10.0)})
    async with aclosing(response):
        async for data in body(response):
            items += len(chunks.feed(data))
            if chunks.done:
                return items
    chunks.finish()
    return items + 1


async def via_prepared(provider: OpenAIChatProvider) -> int:
    items = 0
    async for item in provider.stream(REQUEST):
        items += 1
        assert not isinstance(item, StreamEnd) or item.usage.completion_tokens == 2
    return items


async def measure(run, provider, requests: int) -> float:
    """µs of this process's CPU per request."""
    started = time.process_time()
    for _ in range(requests):
        await run(provider)
    return (time.process_time() - started) / requests * 1e6


GEMINI_REQUEST = GenerationRequest(model="gemini-2.5-flash", system="Be brief.", max_tokens=64,
                                   messages=[ChatMessage("user", "Привет! How are you today?")])
GEMINI_FAKE = """
import sys
from aiohttp import web
from tests.fakes.vendors import FakeVendor
fake = FakeVendor()
fake.script.tokens = ["Hello", " there"]
fake.requests = type("Forget", (list,), {"append": lambda self, item: None})()
web.run_app(fake.app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


async def gemini_via_sdk(provider) -> int:
    """Gemini's stream as it was: google-genai's request and chunk objects."""
    from google.genai import types

    request = GEMINI_REQUEST
    contents = [types.Content(role="user", parts=[types.Part(text=m.text)])
                for m in request.messages]
    config = types.GenerateContentConfig(system_instruction=request.system,
                                         max_output_tokens=request.max_tokens)
    items = 0
    async for chunk in await provider.client.aio.models.generate_content_stream(
            model=request.model, contents=contents, config=config):
        for candidate in chunk.candidates or ():
            for part in (candidate.content.parts if candidate.content else None) or ():
                if part.text:
                    items += 1
        if chunk.usage_metadata is not None:
            items += 1
    return items + 1


async def gemini_via_prepared(provider) -> int:
    items = 0
    async for item in provider.stream(GEMINI_REQUEST):
        items += 1
        assert not isinstance(item, StreamEnd) or item.usage.completion_tokens == 2
    return items


async def main(args: argparse.Namespace) -> None:
    port = free_port()
    if args.vendor == "gemini":
        from providers.gemini import GeminiProvider

        fake = spawn(["-c", GEMINI_FAKE, str(port)])
        make = lambda: GeminiProvider("g-bench", f"http://127.0.0.1:{port}", max_retries=2)  # noqa: E731
        paths = {"sdk": gemini_via_sdk, "prepared": gemini_via_prepared}
    else:
        fake = spawn(["bench/fake_provider.py", str(port)], env=FAKE_ENV)
        make = lambda: OpenAIChatProvider("openai", "sk-bench", f"http://127.0.0.1:{port}/v1",  # noqa: E731
                                          max_retries=2)
        paths = {"sdk": via_sdk, "prepared": via_prepared}
    try:
        await wait_http(f"http://127.0.0.1:{port}/healthz", fake)
        provider = make()
        for run in paths.values():  # warm both: connections, the SDK's platform probe, imports
            for _ in range(50):
                await run(provider)
        rounds: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, run in paths.items():
                rounds[name].append(round(await measure(run, provider, args.requests), 1))
        await provider.aclose()
    finally:
        stop(fake)
    pooled = {name: round(sum(values) / len(values), 1) for name, values in rounds.items()}
    print(json.dumps({"vendor": args.vendor, "requests_per_round": args.requests, "rounds": rounds,
                      "us_cpu_per_request": pooled,
                      "ratio_sdk_to_prepared": round(pooled["sdk"] / pooled["prepared"], 2)}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=800, help="per path per round")
    parser.add_argument("--vendor", choices=("openai", "gemini"), default="openai")
    asyncio.run(main(parser.parse_args()))
