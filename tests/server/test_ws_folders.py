"""Folders over the socket (issue 22, section 6): create, rename, instructions in the system
prompt, moving chats, listing a folder's chats, deleting keeps the chats; and the bad input."""
from tests.helpers import reply_events


async def test_folders_group_chats_and_every_device_hears(client, alice, connect):
    sock, other = await connect(alice), await connect(alice)
    work = (await sock.ok("folder.create", name="  Работа  ", instructions="Answer briefly."))["folder"]
    assert work["name"] == "Работа" and work["instructions"] == "Answer briefly."
    assert (await other.event("folder.created"))["folder"] == work
    home = (await sock.ok("folder.create", name="Home"))["folder"]
    assert home["instructions"] is None
    assert [f["name"] for f in (await sock.ok("folder.list"))["folders"]] == ["Home", "Работа"]

    in_work, loose = await sock.ok("chat.create", title="plan"), await sock.ok("chat.create", title="loose")
    assert loose["folder_id"] is None
    moved = await sock.ok("chat.update", chat_id=in_work["id"], folder_id=work["id"])
    assert moved["folder_id"] == work["id"]
    assert (await other.event("chat.updated"))["chat"]["folder_id"] == work["id"]

    def titles(page):
        return [c["title"] for c in page["chats"]]
    assert titles(await sock.ok("chat.list", folder_id=work["id"])) == ["plan"]
    assert titles(await sock.ok("chat.list", folder_id=None)) == ["loose"]  # top level only
    assert sorted(titles(await sock.ok("chat.list"))) == ["loose", "plan"]  # anywhere
    assert titles(await sock.ok("chat.list", folder_id=home["id"])) == []

    renamed = (await sock.ok("folder.update", folder_id=work["id"], name="Work",
                             instructions=None))["folder"]
    assert renamed["name"] == "Work" and renamed["instructions"] is None
    assert (await other.event("folder.updated"))["folder"] == renamed

    gone = await sock.ok("folder.delete", folder_id=work["id"])
    assert gone == {"folder_id": work["id"], "chat_ids": [in_work["id"]]}
    assert (await other.event("folder.deleted"))["chat_ids"] == [in_work["id"]]
    assert (await sock.ok("chat.get", chat_id=in_work["id"]))["folder_id"] is None
    assert sorted(titles(await sock.ok("chat.list", folder_id=None))) == ["loose", "plan"]
    assert [f["name"] for f in (await sock.ok("folder.list"))["folders"]] == ["Home"]

    back = await sock.ok("chat.update", chat_id=in_work["id"], folder_id=home["id"])
    back = await sock.ok("chat.update", chat_id=in_work["id"], folder_id=None)
    assert back["folder_id"] is None


async def test_a_folders_instructions_join_the_system_prompt_between_the_chats_and_the_profile(
        vendored, vendor, alice_on, connect):
    alice = await alice_on(vendored)
    sock = await connect(alice, on=vendored)
    await sock.ok("profile.update", interests=["шахматы"])
    folder = (await sock.ok("folder.create", name="French",
                            instructions="Always answer in French."))["folder"]
    chat = await sock.ok("chat.create", model="claude-3-5-haiku", system_prompt="Be kind.")
    await sock.ok("chat.update", chat_id=chat["id"], folder_id=folder["id"])
    sent = await sock.ok("message.send", chat_id=chat["id"], content="Hello")
    await reply_events(sock, sent["assistant_message"]["id"])
    assert vendor.requests[-1]["body"]["system"] == (
        "Be kind.\n\nAlways answer in French.\n\n"
        "About the user (from their profile; use it to tailor your answers, do not recite it):\n"
        "- Interests: шахматы")

    await sock.ok("folder.update", folder_id=folder["id"], instructions="Answer in Spanish.")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="Again", model="gpt-4o-mini")
    await reply_events(sock, sent["assistant_message"]["id"])
    system = vendor.requests[-1]["body"]["messages"][0]
    assert system["role"] == "system" and system["content"].startswith(
        "Be kind.\n\nAnswer in Spanish.\n\nAbout the user")


async def test_bad_folder_input_is_refused_and_changes_nothing(client, alice, bob, connect):
    sock, bobs = await connect(alice), await connect(bob)
    mine = (await sock.ok("folder.create", name="Mine"))["folder"]
    chat = await sock.ok("chat.create", title="c")
    bobs_folder = (await bobs.ok("folder.create", name="Bob's"))["folder"]
    bobs_chat = await bobs.ok("chat.create", title="b")
    for request, params, code, field in [
        ("folder.create", {"name": "x", "instructions": "i" * 4001}, "bad_request", "instructions"),
        ("folder.create", {"name": "   "}, "bad_request", "name"),
        ("folder.create", {}, "bad_request", "name"),
        ("folder.create", {"name": "n" * 101}, "bad_request", "name"),
        ("folder.update", {"folder_id": mine["id"], "instructions": "i" * 4001}, "bad_request",
         "instructions"),
        ("folder.update", {"folder_id": mine["id"]}, "bad_request", None),
        ("folder.update", {"folder_id": bobs_folder["id"], "name": "stolen"}, "not_found", None),
        ("folder.delete", {"folder_id": bobs_folder["id"]}, "not_found", None),
        ("folder.delete", {"folder_id": "no-such-folder"}, "not_found", None),
        ("chat.update", {"chat_id": chat["id"], "folder_id": bobs_folder["id"]}, "not_found", None),
        ("chat.update", {"chat_id": bobs_chat["id"], "folder_id": mine["id"]}, "not_found", None),
        ("chat.update", {"chat_id": chat["id"], "folder_id": ""}, "bad_request", "folder_id"),
        ("chat.list", {"folder_id": 7}, "bad_request", "folder_id"),
    ]:
        error = await sock.error(request, **params)
        assert error["code"] == code and error.get("field") == field, (request, params, error)
    assert (await sock.ok("folder.list"))["folders"] == [mine]
    assert (await sock.ok("chat.get", chat_id=chat["id"]))["folder_id"] is None
    assert [f["name"] for f in (await bobs.ok("folder.list"))["folders"]] == ["Bob's"]
    assert (await bobs.ok("chat.get", chat_id=bobs_chat["id"]))["folder_id"] is None
    assert (await sock.ok("chat.list", folder_id=bobs_folder["id"]))["chats"] == []
    assert (await sock.ok("ping"))["pong"]
