"""The pure protocol: what a client's frame turns into, and what the server sends back."""
import tracemalloc

import pytest

from protocol import ERROR_CODES, REQUESTS, decode, encode, parse_request, reply_error, reply_ok
from protocol.errors import BadRequest, ChatwireError


def error_of(data):
    with pytest.raises(ChatwireError) as info:
        parse_request(data)
    return info.value


def test_a_valid_request_keeps_its_id_and_params():
    req = parse_request('{"type":"chat.create","id":"7","title":"  Trip to Kazan "}')
    assert (req.type, req.id) == ("chat.create", "7")
    assert req.params == {"title": "Trip to Kazan", "favorite": False}


@pytest.mark.parametrize("data,code", [
    ("{not json", "bad_request"),
    ("[1,2]", "bad_request"),
    ('"hello"', "bad_request"),
    ("{}", "bad_request"),
    ('{"type":42}', "bad_request"),
    ('{"type":"chat.explode"}', "unknown_type"),
    ('{"type":"chat.get"}', "bad_request"),
    ('{"type":"chat.get","chat_id":5}', "bad_request"),
    ('{"type":"chat.get","chat_id":""}', "bad_request"),
    ('{"type":"chat.update","chat_id":"x","titel":"typo"}', "bad_request"),
    ('{"type":"chat.update","chat_id":"x","favorite":"yes"}', "bad_request"),
    ('{"type":"chat.create","title":"a\\u0000b"}', "bad_request"),
    ('{"type":"chat.create","title":"' + "x" * 201 + '"}', "bad_request"),
    ('{"type":"chat.create","tags":["ok",7]}', "bad_request"),
    ('{"type":"chat.create","tags":' + str([f"t{i}" for i in range(21)]).replace("'", '"') + "}",
     "bad_request"),
    ('{"type":"chat.list","limit":0}', "bad_request"),
    ('{"type":"chat.list","limit":true}', "bad_request"),
    ('{"type":"chat.list","limit":1e3}', "bad_request"),
    ('{"type":"ping","id":{"nested":1}}', "bad_request"),
    ('{"type":"ping","id":"' + "i" * 65 + '"}', "bad_request"),
])
def test_bad_frames_get_typed_errors(data, code):
    assert error_of(data).code == code


def test_errors_still_carry_the_request_id_for_correlation():
    assert error_of('{"type":"nope","id":"42"}').request_id == "42"
    assert error_of('{"type":"chat.get","id":9}').request_id == 9


def test_duplicate_tags_collapse_and_are_trimmed():
    req = parse_request('{"type":"chat.create","tags":[" work ","work","travel"]}')
    assert req.params["tags"] == ["work", "travel"]


def test_replies_have_the_documented_envelope():
    assert reply_ok("7", {"id": "c1"}) == {"type": "reply", "id": "7", "ok": True,
                                          "data": {"id": "c1"}}
    err = reply_error("7", BadRequest("nope", field="title"))
    assert err["ok"] is False and err["error"] == {"code": "bad_request", "message": "nope",
                                                   "field": "title"}
    assert encode(err).startswith(b'{"type":"reply"')


def test_every_request_type_and_error_code_is_snake_or_dotted_lowercase():
    for name in [*REQUESTS, *ERROR_CODES]:
        assert name == name.lower() and " " not in name


def test_a_kept_frame_costs_its_own_size_not_the_encoders_buffer():
    """Frames live on in resume history and send queues: 1,000 kept events of ~80 bytes must
    cost about that, not orjson's 4 KB working buffer each (4 MB)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [encode({"type": "message.delta", "seq": seq, "delta": "привет, world "})
                for seq in range(1000)]
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert decode(kept[7]) == {"type": "message.delta", "seq": 7, "delta": "привет, world "}
    assert grown < 1000 * 200, f"{grown // 1000} bytes kept per 80-byte frame"
