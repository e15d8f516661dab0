"""Splitting a vendor's byte stream into data payloads, however the network cut it."""
import gzip

import httpx2
import pytest

from providers.base import StreamEnd
from providers.sse import DataLines, EventReader, body

STREAM = (b'event: message_start\ndata: {"a":1}\n\n: comment\ndata:{"b":"\xd0\x9f\xd1\x80"}\r\n\r\n'
          b"data: [DONE]\n\n")
PAYLOADS = [b'{"a":1}', '{"b":"Пр"}'.encode(), b"[DONE]"]


async def chunks_of(data, size):
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def payloads(chunks):
    lines, got = DataLines(), []
    async for chunk in chunks:
        got += lines.feed(chunk)
    return got + lines.end()


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
async def test_payloads_survive_any_chunking(size):
    assert await payloads(chunks_of(STREAM, size)) == PAYLOADS


async def test_a_last_line_without_newline_is_not_lost():
    got = await payloads(chunks_of(b'data: {"x":1}\n\ndata: [DONE]', 5))
    assert got == [b'{"x":1}', b"[DONE]"]


@pytest.mark.parametrize("encoding", [None, "identity", "gzip"])
async def test_the_body_is_read_raw_unless_compressed(encoding):
    headers = {"content-encoding": encoding} if encoding else {}
    content = gzip.compress(STREAM) if encoding == "gzip" else STREAM
    response = httpx2.Response(200, headers=headers, stream=httpx2.ByteStream(content))
    assert await payloads(body(response)) == PAYLOADS


class Plain(EventReader):
    """A vendor whose payloads are their text, ending at END."""

    def read(self, payload):
        self.done = payload == b"END"
        return "" if self.done else payload.decode()

    def end(self):
        return StreamEnd()


def test_reading_stops_at_the_end_marker_within_a_chunk():
    reader = Plain("plain")
    assert reader.feed(b"data: a\n\ndata: b\n\ndata: END\n\ndata: after\n\n") == ["a", "b", StreamEnd()]
    assert reader.done


def test_a_last_line_without_newline_still_gives_its_text():
    reader = Plain("plain")
    assert reader.feed(b"data: a\n\ndata: tail") == ["a"]
    assert reader.rest() == ["tail"] and not reader.done
