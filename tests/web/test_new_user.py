"""What a new user hit within minutes (issue 21's bugs), each as the user meets it, in Chromium."""
import json
from pathlib import Path

from tests.helpers import (DRAWER_CLOSED, DRAWER_OPEN, PASSWORD, SHOTS, chat_open, in_page,
                           last_reply, send, sign_up)

PAGE_FITS = "document.documentElement.scrollWidth <= window.innerWidth"


async def test_long_words_urls_and_code_lines_never_widen_the_page(page):
    await sign_up(page)
    word = "Д" * 150 + "x" * 150
    url = "https://example.com/" + "/".join(f"segment{i}" for i in range(40))
    await send(page, f"{word}\n\n{url}")
    await last_reply(page)
    await send(page, "```python\n" + "value = " + "1 + " * 50 + "1\n```")
    reply = await last_reply(page)
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 800})
        assert await page.evaluate(PAGE_FITS), await page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        composer = await page.get_by_test_id("composer").bounding_box()
        assert composer["x"] + composer["width"] <= width  # the composer stays on screen
    code = reply.locator("pre code")
    assert await code.evaluate("c => c.scrollWidth > c.clientWidth")  # scrolls inside itself
    assert await reply.locator("pre").get_attribute("data-lang") == "python"  # and is labelled
    await in_page(page, DRAWER_CLOSED)  # the layout's switch to the phone drawer has settled
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "phone-long-words.png"))


async def test_switching_language_and_theme_keeps_one_socket(page):
    await sign_up(page)
    for _ in range(2):
        await page.get_by_test_id("language").click()
        await chat_open(page)
    await page.get_by_test_id("theme").click()
    devices = await page.evaluate("window.chatwire.call('presence.get')")
    assert len(devices["devices"]) == 1, devices
    await send(page, "Count: one two three")
    reply = await last_reply(page)
    assert (await reply.locator(".body").text_content()).strip() == "Count: one two three"
    assert await page.evaluate("document.documentElement.lang") == "en"  # toggled twice
    assert page.errors == []


async def test_double_clicking_send_sends_once(page):
    await sign_up(page)
    await page.get_by_test_id("composer").fill("только один раз")
    await page.get_by_test_id("send").dblclick()
    await page.get_by_test_id("composer").press("Enter")
    await last_reply(page)
    chat = await page.evaluate("window.chatwire.call('chat.get',"
                               " { chat_id: window.chatwire.store.state.chatId })")
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant"]
    ledger = await page.evaluate("window.chatwire.call('transactions.list', { kind: 'usage' })")
    assert len(ledger["transactions"]) == 1  # one reply charged
    assert await page.locator(".toast").count() == 0  # and no second send refused


async def test_the_phone_drawer_closes_by_tap_outside_escape_and_its_button(page):
    await page.set_viewport_size({"width": 390, "height": 844})
    await sign_up(page)
    menu = page.get_by_test_id("menu")
    for close in ("backdrop", "escape", "button"):
        await menu.click()
        await page.get_by_test_id("close-drawer").wait_for(state="visible")
        if close == "backdrop":
            await page.mouse.click(370, 400)  # the chat behind, outside the drawer
        elif close == "escape":
            await page.keyboard.press("Escape")
        else:
            await page.get_by_test_id("close-drawer").click()
        await in_page(page, DRAWER_CLOSED)
        assert await page.evaluate("document.activeElement.dataset.testid") == "menu", close
    SHOTS.mkdir(exist_ok=True)
    await menu.click()
    await in_page(page, DRAWER_OPEN)
    await page.screenshot(path=str(SHOTS / "phone-drawer.png"))


async def test_a_message_over_the_frame_limit_is_refused_in_the_page_not_by_a_closed_socket(page):
    await sign_up(page)
    limit = await page.evaluate("window.chatwire.store.state.maxFrameBytes")
    assert limit == 64 * 1024
    await page.get_by_test_id("composer").fill("я" * (limit // 2 + 100))  # two bytes each
    await page.get_by_test_id("composer").press("Enter")
    toast = page.locator(".toast").last
    await toast.wait_for()
    assert "too long" in await toast.text_content() and "characters" in await toast.text_content()
    assert await page.get_by_test_id("connection").get_attribute("data-state") == "connected"
    # Pasting such a text offers to attach it as a file (the test's dialogs answer yes).
    await page.get_by_test_id("composer").fill("")
    await page.evaluate("""(size) => {
      const box = document.querySelector('[data-testid=composer]');
      const data = new DataTransfer();
      data.setData('text/plain', 'w'.repeat(size));
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }""", limit + 10)
    await page.locator('[data-testid=attachments] .chip[data-file-id]').wait_for()
    assert page.dialogs and "too long" in page.dialogs[-1]
    assert "pasted.txt" in await page.get_by_test_id("attachments").text_content()


async def test_a_whitespace_message_is_not_sent(page):
    await sign_up(page)
    await page.get_by_test_id("composer").fill("   \n  ")
    await page.get_by_test_id("composer").press("Enter")
    await page.wait_for_timeout(300)  # nothing to wait for: nothing may happen
    assert await page.locator("article").count() == 0
    assert await page.evaluate("window.chatwire.call('chat.list')") == {
        "chats": [], "next_cursor": None}


async def test_new_chat_clicks_store_nothing_until_the_first_message(page):
    await sign_up(page)
    for _ in range(3):
        await page.get_by_test_id("new-chat").click()
    listed = await page.evaluate("window.chatwire.call('chat.list')")
    assert listed["chats"] == []
    await send(page, "первое сообщение")
    await last_reply(page)
    listed = await page.evaluate("window.chatwire.call('chat.list')")
    assert [c["title"] for c in listed["chats"]] == ["первое сообщение"]
    assert await page.locator(".chat-list .chat").count() == 1


async def test_a_send_while_a_reply_streams_waits_for_it(page):
    await sign_up(page)
    await send(page, " ".join(f"w{i}" for i in range(60)))
    await page.locator('article.assistant[data-status="streaming"] .body p').wait_for()
    await page.get_by_test_id("composer").fill("and then this")
    await page.get_by_test_id("composer").press("Enter")
    assert await page.get_by_test_id("send").text_content() == "Queued"
    await in_page(page, "(() => { const m = window.chatwire.store.state.messages;"
                        " return m.length === 4 && m[3].status === 'complete'; })()", timeout=15)
    chat = await page.evaluate("window.chatwire.call('chat.get',"
                               " { chat_id: window.chatwire.store.state.chatId })")
    first, second = chat["messages"][1], chat["messages"][2]
    assert first["status"] == "complete" and second["parent_id"] == first["id"]
    assert page.errors == []


async def test_a_trashed_chat_opens_read_only_with_restore(page):
    await sign_up(page)
    await send(page, "в корзину")
    await last_reply(page)
    await page.locator(".chat").first.get_by_role("button", name="Move to trash").click()
    banner = page.get_by_test_id("trashed-banner")
    await banner.wait_for()
    assert await page.get_by_test_id("composer").is_hidden()
    await page.locator(".tab[data-tab=trash]").click()
    await page.locator(".chat-list .chat .open").first.click()
    await banner.wait_for()
    assert await page.get_by_test_id("regenerate").count() == 0  # nothing to do but read
    assert await page.get_by_test_id("edit").count() == 0
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "trashed-chat.png"))
    await page.get_by_test_id("restore-chat").click()
    await page.get_by_test_id("composer").wait_for()
    assert await banner.is_hidden()


async def test_markdown_tables_quotes_and_code_are_styled_in_both_themes(page):
    await sign_up(page)
    await send(page, "| a | b |\n|---|---|\n| 1 | 2 |\n\n> quoted\n\n```js\nlet x = 1;\n```")
    reply = await last_reply(page)
    for theme in ("light", "dark"):
        if await page.evaluate("document.documentElement.dataset.theme") != theme:
            await page.get_by_test_id("theme").click()
        cell = await reply.locator("td").first.evaluate(
            "td => [getComputedStyle(td).borderTopWidth, getComputedStyle(td).paddingLeft]")
        assert cell[0] != "0px" and cell[1] != "0px"
        rule = await reply.locator("blockquote").evaluate("q => getComputedStyle(q).borderLeftWidth")
        assert rule != "0px"
        code = await reply.locator("pre code").evaluate("c => getComputedStyle(c).backgroundColor")
        assert code in ("rgba(0, 0, 0, 0)", "transparent")  # one background: the block's
        SHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"markdown-{theme}.png"))


async def test_out_of_credits_speaks_credits_clears_the_box_and_offers_retry(context, web_poor):
    page = await context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    await page.goto(web_poor)
    await sign_up(page)
    await page.get_by_test_id("composer").fill("нет денег")
    await page.get_by_test_id("composer").press("Enter")
    toast = page.locator(".toast").last
    await toast.wait_for()
    text = await toast.text_content()
    assert "micro" not in text and "Not enough credits" in text
    assert await page.get_by_test_id("composer").input_value() == ""
    retry = page.locator("article.user").last.get_by_test_id("retry")
    await retry.wait_for()
    assert await page.get_by_test_id("balance").text_content() == "0.00"


async def test_a_normal_session_logs_no_console_errors_and_connects_before_reconnecting(context,
                                                                                        web):
    page = await context.new_page()
    console = []
    page.on("console", lambda m: m.type == "error" and console.append(m.text))
    page.on("requestfailed", lambda r: console.append(f"failed {r.url}"))
    page.on("response", lambda r: r.status >= 400 and console.append(f"{r.status} {r.url}"))
    await page.add_init_script("""(() => {
      window.statusTexts = [];
      new MutationObserver(() => {
        const s = document.querySelector('[data-testid=connection]');
        if (s && s.textContent && window.statusTexts.at(-1) !== s.textContent) window.statusTexts.push(s.textContent);
      }).observe(document, { subtree: true, childList: true, characterData: true });
    })()""")
    await page.goto(web)
    await sign_up(page)
    await send(page, "hello")
    await last_reply(page)
    await page.reload()
    await chat_open(page)
    texts = await page.evaluate("window.statusTexts")
    assert "Reconnecting…" not in texts and texts[-1] == "Connected", texts
    assert console == [], json.dumps(console, ensure_ascii=False)


async def test_transactions_are_translated_noted_and_paged_past_a_hundred(page, web_server):
    from server.web.state import CONTEXT

    await sign_up(page)
    user_id = await page.evaluate("window.chatwire.store.state.user.id")
    ledger = web_server.app[CONTEXT].services.ledger
    for i in range(120):
        await ledger.credit(user_id, 10_000, note=f"бонус {i}")
    await page.get_by_test_id("language").click()
    await chat_open(page)
    await page.get_by_test_id("balance").click()
    rows = page.locator("table.transactions tbody tr")
    await rows.nth(99).wait_for()
    assert await rows.count() == 100
    first = await rows.first.locator("td").all_text_contents()
    assert first[1] == "Пополнение" and first[2] == "бонус 119"
    await page.get_by_test_id("more-transactions").click()
    await rows.nth(120).wait_for()  # the other 20 and the welcome grant
    assert await rows.count() == 121
    assert await page.get_by_test_id("more-transactions").is_hidden()
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "transactions-ru.png"))


async def test_everyday_conveniences_copy_model_name_groups_shortcuts_and_suggestions(page,
                                                                                     context):
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    await sign_up(page)
    cards = page.get_by_test_id("suggestion")
    assert await cards.count() == 4
    await cards.nth(3).click()  # "Write code": sent as it reads
    reply = await last_reply(page)
    assert (await reply.locator(".meta").text_content()).startswith("Echo (offline) · ")
    await reply.get_by_test_id("copy-markdown").click()
    assert "palindrome" in await page.evaluate("navigator.clipboard.readText()")
    assert await page.get_by_test_id("chat-group").all_text_contents() == ["Today"]
    await page.locator("body").click()
    await page.keyboard.press("Shift+?")
    await page.get_by_test_id("shortcuts").wait_for()
    await page.keyboard.press("Escape")
    await page.keyboard.press("Control+k")
    assert await page.evaluate("document.activeElement.type") == "search"
    await page.keyboard.press("Control+Shift+O")
    await in_page(page, "window.chatwire.store.state.drafting === true")
    await page.locator(".chat-list .chat .open").first.click()
    await chat_open(page)
    await page.get_by_test_id("composer").focus()
    await page.keyboard.press("ArrowUp")  # edits the last message
    assert "palindrome" in await page.locator(".edit-box").input_value()


async def test_the_phone_header_is_one_line_with_an_account_menu(page):
    await page.set_viewport_size({"width": 390, "height": 844})
    await sign_up(page)
    await in_page(page, DRAWER_CLOSED)
    header = await page.locator("header.top").bounding_box()
    assert header["height"] < 60, header  # one line
    assert await page.get_by_test_id("logout").is_hidden()
    await page.get_by_test_id("account").click()
    await page.get_by_test_id("logout").wait_for()
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "phone-account-menu.png"))
    await page.get_by_test_id("language").click()
    await chat_open(page)
    assert await page.get_by_test_id("account").get_attribute("aria-label") == "Аккаунт"


async def test_chat_settings_set_the_system_prompt_model_and_profile_use(page):
    await sign_up(page)
    await page.get_by_test_id("language").click()  # in Russian
    await chat_open(page)
    await page.get_by_test_id("chat-settings").click()
    assert await page.locator("dialog h2").text_content() == "Настройки чата"
    await page.get_by_test_id("settings-system-prompt").fill("Отвечай кратко.")
    await page.get_by_test_id("settings-personalize").uncheck()
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "chat-settings-ru.png"))
    await page.get_by_test_id("save-settings").click()
    await send(page, "первый вопрос")  # the draft's first message creates the chat with them
    await last_reply(page)
    chat = await page.evaluate("window.chatwire.call('chat.get',"
                               " { chat_id: window.chatwire.store.state.chatId })")
    assert chat["system_prompt"] == "Отвечай кратко." and chat["personalize"] is False
    await page.get_by_test_id("chat-settings").click()  # a saved chat: changed at once
    assert await page.get_by_test_id("settings-system-prompt").input_value() == "Отвечай кратко."
    await page.get_by_test_id("settings-system-prompt").fill("")
    await page.get_by_test_id("save-settings").click()
    await in_page(page, "!document.querySelector('dialog[open]')")
    chat = await page.evaluate("window.chatwire.call('chat.get',"
                               " { chat_id: window.chatwire.store.state.chatId })")
    assert chat["system_prompt"] is None


async def test_search_results_show_the_matching_words_highlighted(page):
    await sign_up(page)
    await send(page, "Расскажи про пельмени и вареники. Also: dumpling recipes from Siberia.")
    await last_reply(page)
    await page.get_by_test_id("new-chat").click()
    await send(page, "quarterly report numbers")
    await last_reply(page)
    for query, word in (("пельм", "пельмени"), ("DUMPLING", "dumpling")):
        await page.get_by_label("Search chats…").fill(query)
        await in_page(page, "document.querySelectorAll('.chat-list .chat').length === 1"
                            " && document.querySelector('[data-testid=snippet] mark')?.textContent"
                            f" === {json.dumps(word)}")
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "search-snippet.png"))
    # A change to a result while searching keeps it in the results (it used to vanish).
    await page.locator(".chat-list .chat").first.hover()
    await page.locator(".chat-list .chat").first.get_by_role("button", name="Favorite").click()
    await in_page(page, "document.querySelector('.chat-list .star.on')")
    assert await page.locator(".chat-list .chat").count() == 1


async def test_a_long_chat_opens_at_its_newest_page_and_reads_back_on_request(page, web_server):
    from server.web.state import CONTEXT
    from storage import chats, messages, new_id, utcnow

    await sign_up(page)
    user_id = await page.evaluate("window.chatwire.store.state.user.id")
    db = web_server.app[CONTEXT].services.db
    chat = await chats.insert(db, id=new_id(), user_id=user_id, title="длинный", favorite=False,
                              model=None, system_prompt=None, tags=[], now=utcnow())
    parent = None
    for i in range(130):
        row = await messages.insert(db, id=new_id(), chat_id=chat["id"], user_id=user_id,
                                    parent_id=parent, role="assistant" if i % 2 else "user",
                                    content=f"сообщение {i}", model="echo", status="complete",
                                    client_msg_id=None, now=utcnow())
        parent = row["id"]
    await chats.touch(db, chat["id"], utcnow(), current_message_id=parent)
    await page.evaluate(f"window.chatwire.openChat({json.dumps(chat['id'])})")
    await in_page(page, "document.querySelector('article:last-of-type .body')?.textContent.trim()"
                        " === 'сообщение 129'")
    drawn = await page.locator("article").count()
    assert 0 < drawn < 130
    while await page.get_by_test_id("earlier").count():
        await page.get_by_test_id("earlier").click()
        await in_page(page, f"document.querySelectorAll('article').length > {drawn}")
        drawn = await page.locator("article").count()
    assert drawn == 130
    assert (await page.locator("article .body").first.text_content()).strip() == "сообщение 0"


async def test_a_streamed_reply_ends_drawn_exactly_as_a_whole_one(page):
    await sign_up(page)
    text = "\n\n".join([f"Абзац {i} с **жирным** и `кодом`." for i in range(8)]
                       + ["```python\nprint('hi')\n\n\nprint('bye')\n```", "| a | b |\n|---|---|\n| 1 | 2 |"])
    await send(page, text)
    reply = await last_reply(page)
    streamed = await reply.locator(".body").inner_html()
    await page.evaluate("window.chatwire.reloadChat()")  # drawn again from the stored text
    await in_page(page, "document.querySelector('article.assistant .body table')")
    assert await page.locator("article.assistant .body").last.inner_html() == streamed
    assert await reply.locator("pre code").text_content() == "print('hi')\n\n\nprint('bye')\n"


async def test_a_new_chat_is_named_by_the_server_after_its_first_reply(page):
    await sign_up(page)
    await send(page, "**Plan** a trip to `Kazan`. Details later, please.")
    await last_reply(page)
    await page.wait_for_selector('.chat-list .title:has-text("Plan a trip to Kazan")')
    assert await page.locator(".chat-list .title").all_text_contents() == ["Plan a trip to Kazan"]


async def test_a_chat_downloads_as_markdown_and_json_from_its_settings(page):
    await sign_up(page)
    await page.get_by_test_id("language").click()
    await chat_open(page)
    await send(page, "Что посмотреть в Казани?")
    await last_reply(page)
    await page.get_by_test_id("chat-settings").click()
    async with page.expect_download() as markdown:
        await page.get_by_test_id("export-md").click()
    text = Path(await (await markdown.value).path()).read_text(encoding="utf-8")
    assert "**Вы** ·" in text and "Что посмотреть в Казани?" in text
    async with page.expect_download() as whole:
        await page.get_by_test_id("export-json").click()
    body = json.loads(Path(await (await whole.value).path()).read_text(encoding="utf-8"))
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert page.errors == []


async def test_account_settings_name_default_model_password_and_sessions(page, browser, web):
    await sign_up(page)
    other = await (await browser.new_context(locale="en-US")).new_page()  # another device
    await other.goto(web)
    await other.get_by_test_id("email").fill("anna@example.com")
    await other.get_by_test_id("password").fill(PASSWORD)
    await other.get_by_test_id("submit").click()
    await chat_open(other)
    await page.get_by_test_id("language").click()
    await chat_open(page)
    await page.get_by_test_id("settings").click()
    await page.get_by_test_id("sessions").locator("li").nth(1).wait_for()
    assert await page.get_by_test_id("sessions").locator("li").count() == 2
    assert "Это устройство" in await page.get_by_test_id("sessions").text_content()
    await page.get_by_test_id("account-name").fill("Анна Петрова")
    await page.get_by_test_id("save-account").click()
    await in_page(page, "window.chatwire.store.state.user.display_name === 'Анна Петрова'")
    await in_page(other, "window.chatwire.store.state.user.display_name === 'Анна Петрова'")
    assert await page.get_by_test_id("account").text_content() == "АП"  # the initials follow
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "account-settings-ru.png"))
    await page.get_by_test_id("current-password").fill(PASSWORD)
    await page.get_by_test_id("new-password").fill("a much newer horse battery")
    await page.get_by_test_id("change-password").click()
    await in_page(page, "document.querySelector('[data-testid=password-status]').textContent"
                        ".startsWith('Пароль изменён')")
    await other.get_by_test_id("auth").wait_for()  # the other device is signed out
    assert await page.get_by_test_id("sessions").locator("li").count() == 1
    assert await page.get_by_test_id("connection").get_attribute("data-state") == "connected"
