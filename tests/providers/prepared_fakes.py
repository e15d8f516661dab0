"""A local server for the prepared-request tests (tests/providers/test_prepared*.py): answers
scripted per request, records what it got, and the calls that read a provider's stream."""
import pytest
from aiohttp import web

from protocol.errors import ChatwireError
from providers.base import StreamEnd


class Front:
    """Answers the next requests as scripted (`then`) before the vendor fake does; sees every
    request, and the encoding of every answer the fake streamed."""

    def __init__(self) -> None:
        self.queue: list = []
        self.paths: list[str] = []
        self.encodings: list[str | None] = []

    def then(self, *answers) -> None:
        self.queue += answers

    @web.middleware
    async def middleware(self, request, handler):
        self.paths.append(request.path)
        if self.queue:
            await request.read()
            return self.queue.pop(0)()
        response = await handler(request)
        self.encodings.append(response.headers.get("Content-Encoding"))
        return response


async def moved_here(request):
    return web.Response(text="moved here")


async def fronted_vendor(aiohttp_server, front: Front):
    """The vendor fake behind `front` (which answers first when scripted), with `/elsewhere` for
    redirects to point at; its base URL in `.url`."""
    from tests.fakes.vendors import FakeVendor

    vendor = FakeVendor()
    vendor.front = front
    vendor.app.middlewares.append(front.middleware)
    vendor.app.router.add_route("*", "/elsewhere", moved_here)
    server = await aiohttp_server(vendor.app)
    vendor.url = str(server.make_url("")).rstrip("/")
    return vendor


async def collect(provider, request):
    texts, ends = [], []
    async for item in provider.stream(request):
        if isinstance(item, StreamEnd):
            ends.append(item)
        elif isinstance(item, str):
            texts.append(item)
    return "".join(texts), ends


async def fails(provider, request):
    with pytest.raises(ChatwireError) as info:
        await collect(provider, request)
    return info.value


def status(code, body=b"", content_type="application/json", **headers):
    return lambda: web.Response(status=code, body=body, content_type=content_type, headers=headers)
