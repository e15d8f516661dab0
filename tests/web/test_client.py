"""Using the bundled web client as a person would, in headless Chromium.

Wait for the state that matters, never for a while: a reply from the echo model can stream for a
tenth of a second, shorter than Playwright's polling backs off to (half a second), so a passing
state is recorded in the page as it happens rather than polled for.
"""
from tests.helpers import DRAWER_CLOSED, SHOTS, chat_open, in_page, last_reply, send, sign_up

# Records the status of every reply drawn in the message list, as it is drawn.
RECORD_STATUSES = """() => {
  window.replyStatuses = [];
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) {
      if (node.matches?.("article.assistant")) window.replyStatuses.push(node.dataset.status);
    }
  }).observe(document.querySelector("[data-testid=messages]"), { childList: true });
}"""


async def test_a_new_user_signs_up_and_watches_a_markdown_reply_stream_in(page, context):
    await sign_up(page)
    before = await page.get_by_test_id("balance").text_content()
    await page.evaluate(RECORD_STATUSES)
    await send(page, "Привет, **мир** и `код`")
    reply = await last_reply(page)
    statuses = await page.evaluate("window.replyStatuses")
    assert statuses[0] == "streaming" and statuses[-1] == "complete", statuses
    assert await reply.locator(".body strong").text_content() == "мир"
    assert await reply.locator(".body code").text_content() == "код"
    assert "tokens" in await reply.locator(".meta").text_content()
    await in_page(page, f"document.querySelector('[data-testid=balance]').textContent !== {before!r}")
    user = page.locator("article.user").last
    assert await user.locator(".body").text_content() == "Привет, **мир** и `код`"  # as typed
    assert await page.locator(".chat-list .chat").count() == 1
    # nothing secret in the page's storage: the session is an HttpOnly cookie
    keys = await page.evaluate("Object.keys(localStorage)")
    assert set(keys) <= {"chatwire.lang", "chatwire.theme"}
    assert "chatwire_session" not in await page.evaluate("document.cookie")
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "desktop-chat.png"))
    await page.set_viewport_size({"width": 390, "height": 800})
    await in_page(page, DRAWER_CLOSED)  # slid away
    await page.screenshot(path=str(SHOTS / "phone-chat.png"))
    assert page.errors == []


async def test_hostile_markdown_stays_inert_even_split_across_deltas(page):
    await sign_up(page)
    payloads = [
        '<img src=x onerror="window.pwned=1">',
        "[click me](javascript:window.pwned=2)",
        '<svg onload="window.pwned=3"><circle r="5"/></svg>',
        '<a href="javascript:window.pwned=4">x</a> <iframe src="javascript:window.pwned=5"></iframe>',
        "```html\n<script>window.pwned=6</script>\n```",
    ]
    for payload in payloads:
        await send(page, payload)
        await last_reply(page)
    # An image's error handler would run when it fails to load: wait until every image has.
    await page.evaluate("""() => Promise.all(
      [...document.querySelectorAll("[data-testid=messages] img")].map((img) => img.complete
        || new Promise((done) => {
          img.addEventListener("error", done);
          img.addEventListener("load", done);
        })))""")
    assert await page.evaluate("window.pwned") is None
    messages = page.get_by_test_id("messages")
    found = await messages.locator("[onerror], [onload], iframe, script, object, embed").evaluate_all(
        "nodes => nodes.map(n => n.outerHTML)")
    assert found == []
    handlers = await messages.locator("*").evaluate_all(
        "nodes => nodes.flatMap(n => [...n.attributes].map(a => a.name)).filter(a => a.startsWith('on'))")
    assert handlers == []
    hrefs = await messages.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert not any(h and h.strip().lower().startswith("javascript:") for h in hrefs)
    code = await messages.locator("article.assistant pre code").last.text_content()
    assert "<script>window.pwned=6</script>" in code  # shown as code, never run
    assert page.errors == []


async def test_escape_stops_a_reply_and_regenerate_adds_a_branch(page):
    await sign_up(page)
    await send(page, " ".join(f"word{i}" for i in range(120)))
    await page.locator('article.assistant[data-status="streaming"] .body p').wait_for()
    await page.keyboard.press("Escape")
    stopped = await last_reply(page, "stopped")
    text = await stopped.locator(".body").text_content()
    assert text.startswith("word0") and "word119" not in text
    await stopped.get_by_test_id("regenerate").click()
    await page.locator('article.assistant[data-status="streaming"]').wait_for()
    await page.keyboard.press("Escape")
    await last_reply(page, "stopped")  # the new reply, stopped too
    await page.wait_for_selector('[data-testid="branch"]:has-text("2/2")')
    await page.locator("article.assistant").last.get_by_role("button", name="‹").click()
    await page.wait_for_selector('[data-testid="branch"]:has-text("1/2")')
    assert await page.locator("article.assistant").last.get_attribute("data-status") == "stopped"
    assert await page.locator("article.assistant").last.locator(".body").text_content() == text


async def test_editing_a_message_branches_the_conversation(page):
    await sign_up(page)
    await send(page, "first version")
    await last_reply(page)
    await page.locator("article.user").last.get_by_test_id("edit").click()
    await page.locator(".edit-box").fill("second version")
    await page.get_by_test_id("save-edit").click()
    await page.wait_for_selector('article.user [data-testid="branch"]:has-text("2/2")')
    reply = await last_reply(page)
    assert "second version" in await reply.locator(".body").text_content()


async def test_two_tabs_stay_in_sync(page, context, web):
    await sign_up(page)
    other = await context.new_page()
    await other.goto(web)
    await chat_open(other)
    await send(page, "seen in both tabs")
    await last_reply(page)
    # The other tab was on a new, unsaved chat: the one just made appears in its list.
    await other.locator('.chat-list .title:has-text("seen in both tabs")').click()
    await in_page(other, "[...document.querySelectorAll('article.assistant[data-status=complete] .body')]"
                       ".some(b => b.textContent.includes('seen in both tabs'))")
    await page.locator(".chat").first.get_by_role("button", name="Rename").click()
    await page.locator("input.rename").fill("Поездка в Казань")
    await page.locator("input.rename").press("Enter")
    await other.wait_for_selector('.chat-list .title:has-text("Поездка в Казань")')


async def test_a_socket_dropped_mid_reply_resumes_without_lost_or_repeated_text(page):
    await sign_up(page)
    words = " ".join(f"w{i}" for i in range(80))
    await send(page, words)
    # some of the reply has arrived (w10 of w79), then the network drops
    await in_page(page, "(() => {"
                        " const reply = document.querySelector('article.assistant:last-child');"
                        " return reply?.dataset.status === 'streaming'"
                        " && reply.querySelector('.body').textContent.includes('w10'); })()")
    await page.evaluate("window.chatwire.socket.ws.close()")
    await page.wait_for_selector('[data-testid="connection"][data-state="reconnecting"]', state="attached")
    reply = await last_reply(page)
    assert (await reply.locator(".body").text_content()).strip() == words
    await page.wait_for_selector('[data-testid="connection"][data-state="connected"]')


async def test_russian_interface_and_dark_theme(page):
    await sign_up(page)
    await page.get_by_test_id("language").click()
    await page.get_by_test_id("send").wait_for()
    assert await page.get_by_test_id("send").text_content() == "Отправить"
    assert await page.evaluate("document.documentElement.lang") == "ru"
    await page.get_by_test_id("theme").click()
    theme = await page.evaluate("document.documentElement.dataset.theme")
    await page.get_by_test_id("theme").click()
    assert await page.evaluate("document.documentElement.dataset.theme") != theme


async def test_files_attach_with_progress_and_refused_files_say_why(page, tmp_path):
    await sign_up(page)
    notes = tmp_path / "notes.md"
    notes.write_text("# Список\n- молоко\n")
    fake = tmp_path / "cat.png"
    fake.write_text("<html><script>alert(1)</script></html>")
    await page.locator(".composer input[type=\"file\"]").set_input_files([str(notes), str(fake)])
    await page.wait_for_selector('[data-testid="attachments"] .chip[data-file-id]')
    refused = page.locator('[data-testid="attachments"] .chip.error')
    await refused.wait_for()
    assert "cat.png" in await refused.text_content()
    await send(page, "What do my notes say?")
    await last_reply(page)
    assert "notes.md" in await page.locator("article.user .files").last.text_content()


async def test_the_profile_editor_saves_values_with_weights(page):
    await sign_up(page)
    await page.get_by_test_id("profile").click()
    await page.get_by_test_id("add-values").fill("честность")
    await page.get_by_test_id("add-values").press("Enter")
    await page.get_by_label("Weight: честность").fill("0.9")
    await page.get_by_test_id("save-profile").click()
    await page.get_by_test_id("dialog").wait_for(state="detached")
    profile = await page.evaluate("window.chatwire.call('profile.get')")
    assert profile["profile"]["values"] == [{"text": "честность", "weight": 0.9, "note": None}]


async def test_logging_out_returns_to_the_sign_in_form(page):
    await sign_up(page)
    await page.get_by_test_id("logout").click()
    await page.get_by_test_id("auth").wait_for()
    await page.reload()
    await page.get_by_test_id("auth").wait_for()  # the session really ended


def shown(count, trash=False):
    """The chat list shows `count` chats, of the trash (each with Restore) or not (none with it):
    a count alone can be the list before a tab's chats arrived."""
    restore = count if trash else 0
    return (f"document.querySelectorAll('.chat-list .chat').length === {count} && document"
            f".querySelectorAll('.chat-list .chat [aria-label=Restore]').length === {restore}")


async def trash_first_chat(page):
    """Move the newest chat to the trash; wait until it is gone, and, if it was the one open, the
    app has opened another (before that, it reads the list again for the tab it shows)."""
    chats = page.locator(".chat-list .chat")
    trashed = await chats.first.get_attribute("data-chat-id")
    await chats.first.hover()
    await chats.first.get_by_role("button", name="Move to trash").click()
    await in_page(page, f"!document.querySelector('.chat-list [data-chat-id=\"{trashed}\"]')")
    await in_page(page, f"window.chatwire.store.state.chatId !== {trashed!r}")
    await chat_open(page)


async def test_the_sidebar_searches_tags_favorites_and_keeps_a_trash(page):
    await sign_up(page)
    await send(page, "Поездка в Казань в мае")
    await last_reply(page)
    first_chat = await page.evaluate("window.chatwire.store.state.chatId")
    await page.get_by_test_id("new-chat").click()
    await in_page(page, f"window.chatwire.store.state.chatId !== {first_chat!r}")
    await chat_open(page)
    await send(page, "quarterly report numbers")
    await last_reply(page)
    chats = page.locator(".chat-list .chat")
    await in_page(page, "document.querySelectorAll('.chat-list .chat').length === 2")
    await page.get_by_label("Search chats…").fill("казан")
    await in_page(page, "document.querySelectorAll('.chat-list .chat').length === 1")
    await page.get_by_label("Search chats…").fill("")
    await in_page(page, "document.querySelectorAll('.chat-list .chat').length === 2")

    first = chats.first  # the newest: the report
    await first.hover()
    await first.get_by_role("button", name="Tags").click()
    await page.locator("input.rename").fill("work, q3")
    await page.locator("input.rename").press("Enter")
    await page.locator(".tag-bar .chip", has_text="#work").click()
    await in_page(page, "document.querySelectorAll('.chat-list .chat').length === 1")
    await page.locator(".tag-bar .chip", has_text="#work").click()
    await in_page(page, "document.querySelectorAll('.chat-list .chat').length === 2")

    await chats.last.hover()
    await chats.last.get_by_role("button", name="Favorite").click()
    await page.locator('.tab[data-tab="favorites"]').click()
    await in_page(page, "document.querySelectorAll('.chat-list .chat').length === 1")
    await page.locator('.tab[data-tab="all"]').click()
    await in_page(page, "document.querySelectorAll('.chat-list .chat').length === 2")

    await trash_first_chat(page)
    await in_page(page, shown(1))
    await page.locator('.tab[data-tab="trash"]').click()
    await in_page(page, shown(1, trash=True))
    await chats.first.hover()
    await chats.first.get_by_role("button", name="Restore").click()
    await in_page(page, shown(0, trash=True))
    await page.locator('.tab[data-tab="all"]').click()
    await in_page(page, shown(2))
    await trash_first_chat(page)
    await page.locator('.tab[data-tab="trash"]').click()
    await in_page(page, shown(1, trash=True))
    await chats.first.hover()
    await chats.first.get_by_role("button", name="Delete forever").click()
    await in_page(page, "document.querySelectorAll('.chat-list .chat').length === 0")
    assert page.dialogs == ["Delete this chat forever?"]


async def test_transactions_and_profile_suggestions_from_a_message(page):
    await sign_up(page)
    await send(page, "I love chess. Я мечтаю выучить испанский.")
    await last_reply(page)
    await page.get_by_test_id("balance").click()
    table = page.locator("table.transactions")
    await table.wait_for()
    kinds = await table.locator("tbody tr td:nth-child(2)").all_text_contents()
    assert kinds == ["Usage", "Deposit"]  # in the reader's language
    await page.get_by_test_id("dialog").get_by_role("button", name="Close").click()
    await page.locator("article.user").last.get_by_role("button", name="Analyze for my profile").click()
    suggestions = page.locator(".suggestions")
    await suggestions.wait_for()
    text = await suggestions.text_content()
    assert "chess" in text and "выучить испанский" in text
    await page.get_by_role("button", name="Add to my profile").click()
    await page.get_by_test_id("dialog").wait_for(state="detached")
    profile = await page.evaluate("window.chatwire.call('profile.get')")
    assert [i["text"] for i in profile["profile"]["interests"]] == ["chess"]


async def test_a_reply_shows_its_cached_and_thinking_tokens_in_both_languages(context,
                                                                              web_with_vendors,
                                                                              vendor):
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(web_with_vendors)
    await sign_up(page)
    vendor.script.prompt_tokens, vendor.script.cached_tokens = 1200, 1000
    vendor.script.reasoning_tokens = 300
    vendor.script.tokens = ["Думаю", ", ", "да."]
    await page.get_by_test_id("model").select_option("gemini-2.5-flash")
    await send(page, "Подумай хорошенько")
    meta = (await last_reply(page)).locator(".meta")
    # 200 × 300,000 + 1,000 × 75,000 + 303 × 2,500,000 micro-credits = 892.5 → 893 = 0.000893
    assert await meta.text_content() == ("Gemini 2.5 Flash · 1,200 + 303 tokens · 1,000 from cache"
                                         " · 300 thinking · 0.000893 credits")
    await page.get_by_test_id("language").click()
    await in_page(page, "document.documentElement.lang === 'ru'")
    text = await page.locator("article.assistant .meta").last.text_content()
    assert "1 000 из кэша" in text.replace("\u00a0", " ") and "300 на рассуждения" in text
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "usage-breakdown-ru.png"))
    assert errors == []
