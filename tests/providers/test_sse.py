"""Splitting a vendor's byte stream into data payloads, however the network cut it."""
import pytest

from providers.sse import data_lines

STREAM = (b'event: message_start\ndata: {"a":1}\n\n: comment\ndata:{"b":"\xd0\x9f\xd1\x80"}\r\n\r\n'
          b"data: [DONE]\n\n")


async def chunks_of(data, size):
    for i in range(0, len(data), size):
        yield data[i:i + size]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
async def test_payloads_survive_any_chunking(size):
    got = [p async for p in data_lines(chunks_of(STREAM, size))]
    assert got == [b'{"a":1}', '{"b":"Пр"}'.encode(), b"[DONE]"]


async def test_a_last_line_without_newline_is_not_lost():
    got = [p async for p in data_lines(chunks_of(b'data: {"x":1}\n\ndata: [DONE]', 5))]
    assert got == [b'{"x":1}', b"[DONE]"]


@pytest.mark.parametrize("encoding", [None, "identity", "gzip"])
async def test_the_body_is_read_raw_unless_compressed(encoding):
    import gzip

    import httpx2

    from providers.sse import body
    headers = {"content-encoding": encoding} if encoding else {}
    content = gzip.compress(STREAM) if encoding == "gzip" else STREAM
    response = httpx2.Response(200, headers=headers, stream=httpx2.ByteStream(content))
    got = [p async for p in data_lines(body(response))]
    assert got == [b'{"a":1}', '{"b":"Пр"}'.encode(), b"[DONE]"]
