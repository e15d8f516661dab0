"""One chat exported over REST: the active branch as Markdown, the whole tree as JSON, owner only."""
import orjson

from tests.helpers import auth, reply_events


async def chat_with_a_branch(sock):
    chat = await sock.ok("chat.create", title="Поездка в Казань")
    first = await sock.ok("message.send", chat_id=chat["id"], content="Что посмотреть?")
    await reply_events(sock, first["assistant_message"]["id"])
    again = await sock.ok("message.regenerate", message_id=first["assistant_message"]["id"])
    await reply_events(sock, again["assistant_message"]["id"])
    await sock.ok("message.switch", message_id=first["assistant_message"]["id"])  # the first is active
    return chat, first, again


async def test_markdown_is_the_active_branch_in_the_reader_s_language(client, alice, connect):
    sock = await connect(alice)
    chat, first, again = await chat_with_a_branch(sock)
    resp = await client.get(f"/api/v1/chats/{chat['id']}/export?format=md&lang=ru",
                            headers=auth(alice))
    assert resp.status == 200 and resp.content_type == "text/markdown"
    assert "filename*=UTF-8''%D0%9F%D0%BE%D0%B5%D0%B7%D0%B4%D0%BA%D0%B0" in resp.headers[
        "Content-Disposition"]
    text = await resp.text()
    assert text.startswith("# Поездка в Казань\n")
    assert "**Вы** ·" in text and "**Ассистент (echo)** ·" in text
    assert text.count("Что посмотреть?") == 2  # the question and the active (echoed) reply, once
    english = await (await client.get(f"/api/v1/chats/{chat['id']}/export",
                                      headers=auth(alice))).text()
    assert "**You** ·" in english and "**Assistant (echo)** ·" in english


async def test_json_is_the_whole_tree_with_usage(client, alice, connect):
    sock = await connect(alice)
    chat, first, again = await chat_with_a_branch(sock)
    resp = await client.get(f"/api/v1/chats/{chat['id']}/export?format=json", headers=auth(alice))
    assert resp.status == 200
    body = orjson.loads(await resp.read())
    assert body["format"] == "chatwire.chat/1" and body["chat"]["id"] == chat["id"]
    replies = [m for m in body["messages"] if m["role"] == "assistant"]
    assert {m["id"] for m in replies} == {first["assistant_message"]["id"],
                                          again["assistant_message"]["id"]}
    assert all(m["parent_id"] == first["message"]["id"] for m in replies)  # both branches
    assert all(m["cost"] > 0 and m["prompt_tokens"] > 0 for m in replies)
    assert body["chat"]["current_message_id"] == first["assistant_message"]["id"]
    assert "user_id" not in str(body["messages"])


async def test_someone_else_s_chat_an_unknown_one_and_a_bad_format_are_refused(client, alice,
                                                                               bob, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create", title="private")
    for user, path, status, code in [
            (bob, f"/api/v1/chats/{chat['id']}/export", 404, "not_found"),
            (alice, "/api/v1/chats/nope/export", 404, "not_found"),
            (alice, f"/api/v1/chats/{chat['id']}/export?format=pdf", 400, "bad_request")]:
        resp = await client.get(path, headers=auth(user))
        assert resp.status == status, path
        assert (await resp.json())["error"]["code"] == code
    client.session.cookie_jar.clear()  # signed out (the last sign-up left its cookie)
    resp = await client.get(f"/api/v1/chats/{chat['id']}/export")
    assert resp.status == 401
