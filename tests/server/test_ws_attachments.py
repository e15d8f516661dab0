"""Files attached to messages: images reach vision models in each vendor's own format, documents
reach every model as text, and nobody can attach what is not theirs."""
import base64

from tests import samples
from tests.helpers import reply_events, upload


async def send_with(sock, chat_id, content, file_ids, **extra):
    sent = await sock.ok("message.send", chat_id=chat_id, content=content, file_ids=file_ids, **extra)
    await reply_events(sock, sent["assistant_message"]["id"])
    return sent


def last_user_turn(vendor, model):
    body = vendor.requests[-1]["body"]
    if model == "gemini-2.5-flash":
        return body["contents"][-1]
    return body["messages"][-1]


async def test_an_image_reaches_each_vision_model_in_its_vendors_format(vendored, vendor, alice_on,
                                                                       connect):
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    image = samples.png(color="green")
    _, body = await upload(vendored, alice, "leaf.png", image)
    file_id, encoded = body["file"]["id"], base64.b64encode(image).decode()

    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    sent = await send_with(sock, chat["id"], "What colour is this?", [file_id])
    assert sent["message"]["files"] == [{"id": file_id, "name": "leaf.png", "kind": "image",
                                         "mime": "image/png", "size": len(image)}]
    assert last_user_turn(vendor, "gpt-4o-mini")["content"] == [
        {"type": "text", "text": "What colour is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}}]

    chat = await sock.ok("chat.create", model="claude-3-5-haiku")
    await send_with(sock, chat["id"], "What colour is this?", [file_id])
    assert last_user_turn(vendor, "claude-3-5-haiku")["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": encoded}},
        {"type": "text", "text": "What colour is this?"}]

    chat = await sock.ok("chat.create", model="gemini-2.5-flash")
    await send_with(sock, chat["id"], "What colour is this?", [file_id])
    parts = last_user_turn(vendor, "gemini-2.5-flash")["parts"]
    assert parts[-1] == {"text": "What colour is this?"}
    inline = parts[0]["inlineData"]  # as google-genai sends it: URL-safe base64, "mime_type"
    assert inline["mime_type"] == "image/png" and base64.urlsafe_b64decode(inline["data"]) == image


async def test_the_image_stays_in_the_history_and_an_edit_keeps_it(vendored, vendor, alice_on, connect):
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    _, body = await upload(vendored, alice, "cat.jpg", samples.jpeg())
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    first = await send_with(sock, chat["id"], "Who is this?", [body["file"]["id"]])
    await send_with(sock, chat["id"], "And the colour?", [])
    history = vendor.requests[-1]["body"]["messages"]
    assert history[0]["content"][1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert history[-1] == {"role": "user", "content": "And the colour?"}

    edited = await sock.ok("message.edit", message_id=first["message"]["id"], content="What is it?")
    await reply_events(sock, edited["assistant_message"]["id"])
    assert edited["message"]["files"] == first["message"]["files"]
    assert vendor.requests[-1]["body"]["messages"][-1]["content"][0] == {
        "type": "text", "text": "What is it?"}
    listed = await sock.ok("message.list", chat_id=chat["id"])
    assert [m["files"] for m in listed["messages"]] == [first["message"]["files"], []]


async def test_documents_reach_the_model_as_text(vendored, vendor, alice_on, connect):
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    _, pdf = await upload(vendored, alice, "report.pdf", samples.pdf("Revenue grew 12 percent"))
    _, doc = await upload(vendored, alice, "письмо.docx", samples.docx("Встреча в пятницу"))
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    await send_with(sock, chat["id"], "Summarise both", [pdf["file"]["id"], doc["file"]["id"]])
    assert last_user_turn(vendor, "gpt-4o-mini")["content"] == (
        '<document name="report.pdf">\nRevenue grew 12 percent\n</document>\n\n'
        '<document name="письмо.docx">\nВстреча в пятницу\n</document>\n\n'
        "Summarise both")


async def test_the_offline_model_reads_documents_but_refuses_images(client, alice, connect):
    sock = await connect(alice)
    _, text = await upload(client, alice, "notes.md", "# Список\n- молоко".encode())
    _, image = await upload(client, alice, "a.png", samples.png())
    chat = await sock.ok("chat.create")  # echo: no vision
    sent = await send_with(sock, chat["id"], "What do my notes say?", [text["file"]["id"]])
    done = await sock.ok("message.list", chat_id=chat["id"])
    assert done["messages"][1]["content"] == "What do my notes say?"  # echo repeats the message
    assert sent["message"]["files"][0]["name"] == "notes.md"

    error = await sock.error("message.send", chat_id=chat["id"], content="and this?",
                             file_ids=[image["file"]["id"]])
    assert error["code"] == "bad_request" and error["field"] == "file_ids"
    assert "vision" in error["message"]
    assert len((await sock.ok("message.list", chat_id=chat["id"]))["messages"]) == 2


async def test_someone_elses_file_cannot_be_attached(client, alice, bob, connect):
    _, theirs = await upload(client, bob, "secret.txt", b"bob's secret")
    sock = await connect(alice)
    chat = await sock.ok("chat.create")
    for file_ids in ([theirs["file"]["id"]], ["no-such-file"]):
        error = await sock.error("message.send", chat_id=chat["id"], content="read it",
                                 file_ids=file_ids)
        assert error["code"] == "not_found" and error["file_id"] == file_ids[0]
    assert (await sock.ok("message.list", chat_id=chat["id"]))["messages"] == []
    too_many = await sock.error("message.send", chat_id=chat["id"], content="x",
                                file_ids=[f"f{i}" for i in range(11)])
    assert too_many["code"] == "bad_request"
