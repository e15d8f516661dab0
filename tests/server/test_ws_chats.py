"""A user's chats over one WebSocket, with a second tab watching every change arrive."""
import asyncio

import pytest

from tests.helpers import reply_events


async def test_create_then_get_list_and_a_second_tab_sees_the_event(client, alice, connect):
    tab1, tab2 = await connect(alice), await connect(alice)
    chat = await tab1.ok("chat.create", title="Trip to Kazan", tags=["travel"], favorite=True)
    assert chat["title"] == "Trip to Kazan" and chat["tags"] == ["travel"] and chat["favorite"]
    assert chat["deleted_at"] is None and chat["created_at"] == chat["updated_at"]

    event = await tab2.event("chat.created")
    assert event["chat_id"] == chat["id"] and event["chat"] == chat
    assert isinstance(event["seq"], int)
    # the tab that made the change is told too, with the same seq
    assert (await tab1.event("chat.created"))["seq"] == event["seq"]

    got = await tab2.ok("chat.get", chat_id=chat["id"])
    assert got == {**chat, "messages": [], "messages_next_cursor": None}
    listed = await tab2.ok("chat.list")
    assert [c["id"] for c in listed["chats"]] == [chat["id"]] and listed["next_cursor"] is None


@pytest.mark.parametrize("tags", [[], ["заметки", "b", "a"]])
async def test_what_create_answers_is_what_get_reads_back(client, alice, connect, tags):
    """chat.create answers from its insert, not a read: the same row, the tags in their order."""
    sock = await connect(alice)
    chat = await sock.ok("chat.create", title="Проверка", tags=tags, model="echo",
                         system_prompt="Brief")
    got = await sock.ok("chat.get", chat_id=chat["id"])
    assert got == {**chat, "messages": [], "messages_next_cursor": None}
    assert chat["tags"] == tags and chat["personalize"] is True and chat["folder_id"] is None


async def test_seq_increases_per_user_across_changes(client, alice, connect):
    watcher, actor = await connect(alice), await connect(alice)
    chat = await actor.ok("chat.create", title="one")
    await actor.ok("chat.update", chat_id=chat["id"], title="two")
    await actor.ok("chat.delete", chat_id=chat["id"])
    await actor.ok("chat.restore", chat_id=chat["id"])
    kinds = ["chat.created", "chat.updated", "chat.deleted", "chat.restored"]
    seqs = [(await watcher.event(k))["seq"] for k in kinds]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4 and seqs[-1] - seqs[0] == 3


async def test_rename_favorite_tag_model_and_system_prompt(client, alice, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create")
    assert chat["title"] == "" and chat["tags"] == [] and chat["favorite"] is False
    updated = await sock.ok("chat.update", chat_id=chat["id"], title="Рецепты борща",
                            favorite=True, tags=["food", "дом"], model="echo",
                            system_prompt="Answer briefly.")
    assert updated["title"] == "Рецепты борща" and updated["favorite"] is True
    assert updated["tags"] == ["food", "дом"] and updated["model"] == "echo"
    assert updated["system_prompt"] == "Answer briefly."
    assert updated["updated_at"] > chat["updated_at"]
    event = await sock.event("chat.updated")
    assert event["chat"] == updated
    cleared = await sock.ok("chat.update", chat_id=chat["id"], tags=[], system_prompt=None)
    assert cleared["tags"] == [] and cleared["system_prompt"] is None
    assert cleared["title"] == "Рецепты борща"  # fields not given stay as they were


async def test_tags_keep_the_order_the_user_gave_them(client, alice, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create", tags=["zebra", "дом", "apple"])
    assert chat["tags"] == ["zebra", "дом", "apple"]
    await sock.ok("chat.update", chat_id=chat["id"], tags=["ёж", "apple", "zebra"])
    assert (await sock.ok("chat.get", chat_id=chat["id"]))["tags"] == ["ёж", "apple", "zebra"]
    listed = (await sock.ok("chat.list"))["chats"]
    assert [c["tags"] for c in listed if c["id"] == chat["id"]] == [["ёж", "apple", "zebra"]]


async def test_list_is_newest_activity_first_and_pages_with_a_cursor(client, alice, connect):
    sock = await connect(alice)
    ids = [(await sock.ok("chat.create", title=f"chat {i}"))["id"] for i in range(5)]
    await sock.ok("chat.update", chat_id=ids[0], title="bumped")  # activity moves it to the top
    expected = [ids[0], ids[4], ids[3], ids[2], ids[1]]
    seen, cursor = [], None
    while True:
        page = await sock.ok("chat.list", limit=2, cursor=cursor)
        seen += [c["id"] for c in page["chats"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


async def test_filter_by_favorite_and_tag(client, alice, connect):
    sock = await connect(alice)
    fav = await sock.ok("chat.create", title="fav", favorite=True, tags=["work"])
    plain = await sock.ok("chat.create", title="plain", tags=["home"])
    assert [c["id"] for c in (await sock.ok("chat.list", favorite=True))["chats"]] == [fav["id"]]
    assert [c["id"] for c in (await sock.ok("chat.list", favorite=False))["chats"]] == [plain["id"]]
    assert [c["id"] for c in (await sock.ok("chat.list", tag="home"))["chats"]] == [plain["id"]]
    assert (await sock.ok("chat.list", tag="nope"))["chats"] == []


async def test_trash_restore_and_purge(client, alice, connect):
    sock, other_tab = await connect(alice), await connect(alice)
    chat = await sock.ok("chat.create", title="temporary")
    trashed = await sock.ok("chat.delete", chat_id=chat["id"])
    assert trashed["deleted_at"] is not None
    assert (await other_tab.event("chat.deleted"))["chat_id"] == chat["id"]
    assert (await sock.ok("chat.list"))["chats"] == []
    assert [c["id"] for c in (await sock.ok("chat.list", trashed=True))["chats"]] == [chat["id"]]

    restored = await sock.ok("chat.restore", chat_id=chat["id"])
    assert restored["deleted_at"] is None
    assert (await other_tab.event("chat.restored"))["chat_id"] == chat["id"]

    error = await sock.error("chat.purge", chat_id=chat["id"])
    assert error["code"] == "conflict"  # purge only from the trash
    assert (await sock.ok("chat.get", chat_id=chat["id"]))["title"] == "temporary"

    await sock.ok("chat.delete", chat_id=chat["id"])
    assert await sock.ok("chat.purge", chat_id=chat["id"]) == {"chat_id": chat["id"]}
    assert (await other_tab.event("chat.purged"))["chat_id"] == chat["id"]
    assert (await sock.error("chat.get", chat_id=chat["id"]))["code"] == "not_found"


async def test_trashing_twice_changes_nothing_more(client, alice, connect):
    sock, watcher = await connect(alice), await connect(alice)
    chat = await sock.ok("chat.create", title="x")
    await watcher.event("chat.created")
    first = await sock.ok("chat.delete", chat_id=chat["id"])
    await watcher.event("chat.deleted")
    again = await sock.ok("chat.delete", chat_id=chat["id"])
    assert again["deleted_at"] == first["deleted_at"]
    await watcher.no_event()


@pytest.mark.parametrize("query", ["kazan", "Каза", "КАЗАНЬ", "trip kaz"])
async def test_search_finds_titles_in_english_and_russian(client, alice, connect, query):
    sock = await connect(alice)
    hit = await sock.ok("chat.create", title="Trip to Kazan — поездка в Казань")
    await sock.ok("chat.create", title="Shopping list")
    found = await sock.ok("chat.list", q=query)
    assert [c["id"] for c in found["chats"]] == [hit["id"]]


async def test_search_finds_chats_by_message_text(client, alice, connect):
    from server.web.state import CONTEXT
    from storage import messages, new_id, utcnow
    sock = await connect(alice)
    chat = await sock.ok("chat.create", title="Untitled")
    await sock.ok("chat.create", title="Other")
    await messages.insert(client.app[CONTEXT].services.db, id=new_id(), chat_id=chat["id"],
                          user_id=alice["user"]["id"], parent_id=None, role="user",
                          content="Как приготовить пельмени?", model=None, status="complete",
                          client_msg_id=None, now=utcnow())
    found = await sock.ok("chat.list", q="пельмени")
    assert [c["id"] for c in found["chats"]] == [chat["id"]]


@pytest.mark.parametrize("query", ['"', "*", "a OR b", "NEAR(", "title:x", "')--", "&|!:*"])
async def test_search_syntax_in_the_query_is_just_text(client, alice, connect, query):
    sock = await connect(alice)
    await sock.ok("chat.create", title="plain")
    result = await sock.ok("chat.list", q=query)
    assert isinstance(result["chats"], list)


async def test_many_concurrent_creates_from_two_tabs_all_land_once(client, alice, connect):
    a, b = await connect(alice), await connect(alice)
    sent = {a: [], b: []}
    for i in range(20):
        sock = a if i % 2 else b
        sent[sock].append(await sock.send("chat.create", title=f"c{i}"))

    async def collect(sock):
        return [await sock.reply(rid) for rid in sent[sock]]

    replies = sum(await asyncio.gather(collect(a), collect(b)), [])
    assert all(r["ok"] for r in replies)
    listed = await a.ok("chat.list", limit=100)
    assert sorted(c["title"] for c in listed["chats"]) == sorted(f"c{i}" for i in range(20))


@pytest.mark.parametrize("query,word", [("рецепт", "рецепт"), ("Recipe", "recipe"),
                                        ("пельм", "пельмени")])
async def test_search_results_carry_the_words_around_the_first_match(client, alice, connect,
                                                                     query, word):
    sock = await connect(alice)
    chat = await sock.ok("chat.create", title="Ужин")
    long_start = "Сначала долгое вступление о погоде и планах на выходные, " * 3
    text = (long_start + "а потом рецепт: как лепить пельмени дома. The recipe is simple: "
            "flour, water, meat — and patience.")
    sent = await sock.ok("message.send", chat_id=chat["id"], content=text)
    await reply_events(sock, sent["assistant_message"]["id"])
    found = (await sock.ok("chat.list", q=query))["chats"]
    assert [c["id"] for c in found] == [chat["id"]]
    snippet = found[0]["snippet"]
    assert snippet["text"].startswith("…") and len(snippet["text"]) < 160  # a window, not all
    start, end = snippet["matches"][0]
    assert snippet["text"][start:end].lower() == word
    listed = (await sock.ok("chat.list"))["chats"]
    assert "snippet" not in listed[0]  # only a search has them


async def test_a_title_match_is_its_own_snippet(client, alice, connect):
    sock = await connect(alice)
    await sock.ok("chat.create", title="Поездка в Казань")
    found = (await sock.ok("chat.list", q="казань"))["chats"]
    assert found[0]["snippet"] == {"text": "Поездка в Казань", "matches": [[10, 16]]}


async def test_the_server_names_a_chat_after_its_first_reply_everywhere(client, alice, connect):
    sock, other = await connect(alice), await connect(alice)
    chat = await sock.ok("chat.create")
    assert chat["title"] == ""
    sent = await sock.ok("message.send", chat_id=chat["id"],
                         content="**Как** приготовить `борщ`? Подробно, пожалуйста.")
    await reply_events(sock, sent["assistant_message"]["id"])
    named = await other.event("chat.updated")
    while named["chat"]["title"] == "":  # the turn's own chat.updated comes first
        named = await other.event("chat.updated")
    assert named["chat"]["title"] == "Как приготовить борщ?"
    again = await sock.ok("message.send", chat_id=chat["id"], content="A different question.")
    await reply_events(sock, again["assistant_message"]["id"])
    assert (await sock.ok("chat.get", chat_id=chat["id"]))["title"] == "Как приготовить борщ?"


async def test_a_title_the_user_set_is_never_overwritten(client, alice, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create", title="Мой чат")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="Hello there. How are you?")
    await reply_events(sock, sent["assistant_message"]["id"])
    assert (await sock.ok("chat.get", chat_id=chat["id"]))["title"] == "Мой чат"
