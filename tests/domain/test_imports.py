"""Reading import files, pure: ChatGPT's conversations.json and our own export, every bad file a
`bad_request` that says where it is wrong."""
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from protocol.errors import BadRequest
from server.domain import imports

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
CHATGPT = (Path(__file__).resolve().parent.parent / "fixtures" / "chatgpt_conversations.json").read_bytes()


def by_key(chat):
    return {m.key: m for m in chat.messages}


def refused(data) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        imports.parse(data if isinstance(data, bytes) else orjson.dumps(data), NOW)
    return caught.value


def test_a_chatgpt_export_keeps_its_branches_and_hides_what_its_reader_never_saw():
    trip, haiku = imports.parse(CHATGPT, NOW)
    assert trip.title == "Trip to Kazan" and haiku.title == "Хайку о чае"
    messages = by_key(trip)
    # the root, the hidden system prompt, the custom instructions, the search call and its output
    assert set(messages) == {"aaa2b7c4-0003", "e1f2a3b4-0004", "aaa2b7c4-0005", "e1f2a3b4-0006",
                             "aaa2b7c4-0007", "e1f2a3b4-0010"}
    assert messages["aaa2b7c4-0003"].parent is None
    # the edited question is a sibling of the first one, under the same reply
    assert messages["aaa2b7c4-0005"].parent == messages["aaa2b7c4-0007"].parent == "e1f2a3b4-0004"
    assert messages["e1f2a3b4-0010"].parent == "aaa2b7c4-0007"  # past the hidden tool nodes
    assert trip.current == "e1f2a3b4-0010"
    assert [m.model for m in trip.messages if m.role == "assistant"] == ["gpt-4o", "gpt-4o",
                                                                          "gpt-4o-mini"]
    assert all(m.model is None for m in trip.messages if m.role == "user")
    assert {m.status for m in trip.messages} == {"complete"}
    assert messages["aaa2b7c4-0003"].created_at == datetime.fromtimestamp(1717430010.25, timezone.utc)
    assert trip.created_at < trip.updated_at


def test_messages_come_parents_first_and_siblings_in_the_order_they_were_written():
    trip, haiku = imports.parse(CHATGPT, NOW)
    order = [m.key for m in trip.messages]
    assert order.index("aaa2b7c4-0005") < order.index("e1f2a3b4-0006") < order.index("aaa2b7c4-0007")
    seen = set()
    for message in trip.messages:
        assert message.parent is None or message.parent in seen
        seen.add(message.key)
    user, reply = haiku.messages
    assert user.content == "[image]\n\nНапиши хайку про этот чай"
    assert reply.model == "gpt-4" and reply.content.startswith("Пиала тепла")


def test_times_are_made_strictly_increasing_down_the_tree_and_across_siblings():
    same = 1717000000.0
    mapping = {"u": {"id": "u", "parent": None, "children": ["a", "b"], "message": {
                   "author": {"role": "user"}, "create_time": same,
                   "content": {"content_type": "text", "parts": ["hi"]}}},
               "a": {"id": "a", "parent": "u", "children": [], "message": {
                   "author": {"role": "assistant"}, "create_time": None,
                   "content": {"content_type": "text", "parts": ["one"]}}},
               "b": {"id": "b", "parent": "u", "children": [], "message": {
                   "author": {"role": "assistant"}, "create_time": same,
                   "content": {"content_type": "text", "parts": ["two"]}}}}
    chat, = imports.parse(orjson.dumps([{"title": "t", "create_time": same, "mapping": mapping,
                                         "current_node": None}]), NOW)
    u, first, second = chat.messages
    assert u.created_at < first.created_at < second.created_at
    assert chat.current is None


def test_a_conversation_with_nothing_shown_is_read_empty_and_a_hidden_current_node_climbs():
    empty = {"title": "", "mapping": {"r": {"id": "r", "message": None, "parent": None,
                                            "children": []}}, "current_node": "r"}
    chat, = imports.parse(orjson.dumps(empty), NOW)
    assert chat.messages == [] and chat.current is None and not chat.ours
    trip, _ = imports.parse(CHATGPT, NOW)
    data = orjson.loads(CHATGPT)
    data[0]["current_node"] = "f9e8d7c6-0009"  # the tool's output: its nearest shown ancestor
    trip, _ = imports.parse(orjson.dumps(data), NOW)
    assert trip.current == "aaa2b7c4-0007"


def test_our_export_is_read_with_its_tree_settings_and_statuses():
    export = {"format": "chatwire.chat/1", "chat": {
        "id": "c1", "title": "Plans", "favorite": True, "model": "echo", "system_prompt": "Be brief",
        "personalize": False, "current_message_id": "m2", "deleted_at": None, "tags": ["work"],
        "created_at": "2026-11-27T05:09:47.123456Z", "updated_at": "2026-11-27T05:10:00.000000Z"},
        "messages": [
            {"id": "m1", "parent_id": None, "role": "user", "content": "hi", "model": None,
             "status": "complete", "created_at": "2026-11-27T05:09:48.000000Z", "cost": 5},
            {"id": "m2", "parent_id": "m1", "role": "assistant", "content": "hi", "model": "echo",
             "status": "streaming", "created_at": "2026-11-27T05:09:48.000000Z"}]}
    chat, = imports.parse(orjson.dumps([export]), NOW)
    assert (chat.title, chat.favorite, chat.personalize, chat.tags, chat.model,
            chat.system_prompt, chat.current, chat.ours) == ("Plans", True, False, ["work"], "echo",
                                                              "Be brief", "m2", True)
    question, answer = chat.messages
    assert answer.parent == "m1" and answer.status == "interrupted" and answer.model == "echo"
    assert answer.created_at > question.created_at  # a turn's two rows share a time


def cycle(n):
    return [{"title": "loop", "mapping": {
        f"n{i}": {"id": f"n{i}", "parent": f"n{(i + 1) % n}", "children": [f"n{(i - 1) % n}"],
                  "message": None} for i in range(n)}, "current_node": "n0"}]


def ours(messages, **chat):
    return {"format": "chatwire.chat/1", "messages": messages, "chat": {
        "title": "t", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        **chat}}


def row(key, parent=None, role="user"):
    return {"id": key, "parent_id": parent, "role": role, "content": "x",
            "created_at": "2026-01-01T00:00:00Z"}


BAD = [
    (ours([row("m", "ghost")]), "node m: parent_id: ghost is not among the messages"),
    (ours([row("m"), row("m")]), "node m: id: appears twice"),
    (ours([row("m")], current_message_id="ghost"), "chat.current_message_id: names message ghost"),
    (ours([row("m")], tags=["a" * 33]), "chat.tags: expected at most 20 texts"),
    (ours([row("m")], favorite="yes"), "chat.favorite: expected true or false"),
    (ours([{**row("m"), "content": None}]), "node m: content: expected text"),
    (b"", "the file is empty"),
    (b"   \n", "the file is empty"),
    (b"{not json", "not valid JSON"),
    (b"PK\x03\x04rest-of-a-zip", "unzip it"),
    ([], "no conversations"),
    ([42], "conversation 0: expected an object"),
    ([{"title": "x"}], "neither a Chatwire export"),
    (cycle(10), "10 nodes form a cycle"),
    ([{"title": "x", "mapping": {"a": {"parent": "ghost", "children": []}}}],
     "node a: parent: ghost is not in the mapping"),
    ([{"title": "x", "mapping": {"a": {"parent": None, "children": ["ghost"]}}}],
     "node a: children: ghost is not in the mapping"),
    ([{"title": "x", "mapping": {"a": {"parent": None}}, "current_node": "ghost"}],
     "current_node: ghost is not in the mapping"),
    ([{"title": 7, "mapping": {}}], "title: expected text or null"),
    ([{"title": "x", "mapping": []}], "mapping: expected an object"),
    ([{"title": "x", "create_time": "yesterday", "mapping": {}}], "create_time: expected seconds"),
    ([{"title": "x", "mapping": {"a": {"parent": None, "message": {
        "author": {"role": "user"}, "content": {"content_type": "text", "parts": "hi"}}}}}],
     "node a: message.content.parts: expected a list"),
    ([{"title": "x", "mapping": {"a": {"parent": None, "message": {"author": "me", "content": {}}}}}],
     "message.author: expected an object with a role"),
    ([{"title": "x", "mapping": {"a": []}}], "node a: expected an object"),
    ({"format": "chatwire.chat/9", "chat": {}, "messages": []}, "format 'chatwire.chat/9'"),
    ({"format": "chatwire.chat/1", "chat": {"title": "t", "created_at": "now"}, "messages": []},
     "chat.created_at: expected an ISO 8601 time"),
    ({"format": "chatwire.chat/1", "chat": {"created_at": "2026-01-01T00:00:00Z",
                                            "updated_at": "2026-01-01T00:00:00Z"},
      "messages": [{"id": "m", "parent_id": "m", "role": "user", "content": "",
                    "created_at": "2026-01-01T00:00:00Z"}]}, "1 nodes form a cycle"),
    ({"format": "chatwire.chat/1", "chat": {"created_at": "2026-01-01T00:00:00Z",
                                            "updated_at": "2026-01-01T00:00:00Z"},
      "messages": [{"id": "m", "parent_id": None, "role": "robot", "content": "",
                    "created_at": "2026-01-01T00:00:00Z"}]}, "node m: role: expected user"),
]


@pytest.mark.parametrize("data, says", BAD, ids=[b[1][:30] for b in BAD])
def test_a_bad_file_is_refused_saying_where(data, says):
    error = refused(data)
    assert says in error.message, error.message


def test_too_many_conversations_or_messages_are_refused_before_any_is_read(monkeypatch):
    monkeypatch.setattr(imports, "MAX_CHATS", 2)
    assert "at most 2 conversations" in refused([{}, {}, {}]).message
    monkeypatch.setattr(imports, "MAX_NODES", 5)
    assert "more than 5 messages" in refused(cycle(6)).message
    chain = {f"n{i}": {"parent": f"n{i - 1}" if i else None, "message": None} for i in range(5)}
    assert len(imports.parse(orjson.dumps({"title": "five", "mapping": chain}), NOW)) == 1


def test_the_error_names_the_conversation_the_node_and_the_field():
    data = orjson.loads(CHATGPT)
    data[1]["mapping"]["7d3e-a1"]["message"]["create_time"] = "soon"
    error = refused(data)
    assert error.as_dict() == {
        "code": "bad_request", "conversation": 1, "node": "7d3e-a1", "field": "message.create_time",
        "message": "conversation 1 ('Хайку о чае'), node 7d3e-a1: message.create_time: expected "
                   "seconds since 1970, or null"}


def test_an_edited_first_question_is_a_second_root_and_the_current_branch_follows_it():
    def said(role, text, t):
        return {"author": {"role": role}, "create_time": t,
                "content": {"content_type": "text", "parts": [text]}}
    mapping = {"root": {"parent": None, "children": ["q1", "q2"], "message": None},
               "q1": {"parent": "root", "children": ["a1"], "message": said("user", "hi", 1.0)},
               "a1": {"parent": "q1", "children": [], "message": said("assistant", "hello", 2.0)},
               "q2": {"parent": "root", "children": ["a2"], "message": said("user", "hey", 3.0)},
               "a2": {"parent": "q2", "children": [], "message": said("assistant", "hi!", 4.0)}}
    chat, = imports.parse(orjson.dumps({"title": "edits", "mapping": mapping, "current_node": "a2"}), NOW)
    assert [(m.key, m.parent) for m in chat.messages] == [("q1", None), ("a1", "q1"), ("q2", None),
                                                         ("a2", "q2")]
    assert chat.current == "a2"
