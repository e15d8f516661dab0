"""Importing chats in the web client: a ChatGPT export and our own JSON export come in through the
sidebar's Import button, open with their branches; a bad file says why and adds nothing."""
from pathlib import Path

from tests.helpers import SHOTS, in_page, sign_up

CHATGPT = Path(__file__).resolve().parent.parent / "fixtures" / "chatgpt_conversations.json"


async def pick(page, path):
    await page.get_by_test_id("import-file").set_input_files(str(path))


async def titles(page):
    return await page.locator("[data-testid=chat-list] li.chat .title").all_text_contents()


async def test_a_chatgpt_export_and_our_json_export_are_imported_and_open_with_branches(
        page, web, tmp_path):
    await sign_up(page)
    assert await page.get_by_test_id("import-chats").text_content() == "Import"
    await pick(page, CHATGPT)
    await page.locator(".toast", has_text="Chats imported: 2").wait_for()
    await page.locator("[data-testid=chat-list] li.chat", has_text="Хайку о чае").wait_for()
    assert sorted(await titles(page)) == ["Trip to Kazan", "Хайку о чае"]
    await page.locator("[data-testid=chat-list] li.chat", has_text="Trip to Kazan").locator(
        "button.open").click()
    messages = page.locator("[data-testid=messages] > article")
    await page.locator("article.user", has_text="And where to eat cheaply?").wait_for()
    assert await messages.count() == 4
    edited = page.locator("article.user").nth(1)
    await edited.locator('[data-testid="branch"]:has-text("2/2")').wait_for()
    last = page.locator("article.assistant").last
    assert "Dom Chaya" in await last.locator(".body").text_content()
    assert (await last.locator(".meta").text_content()).strip() == "gpt-4o-mini"
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "import-chatgpt.png"))
    await edited.get_by_role("button", name="‹").click()  # the branch before the edit
    await page.locator("article.user", has_text="And where to eat?").wait_for()
    await page.locator('article.user [data-testid="branch"]:has-text("1/2")').wait_for()
    assert "chak-chak" in await page.locator("article.assistant").last.text_content()

    chat_id = await page.evaluate("window.chatwire.store.state.chatId")
    exported = await page.request.get(f"{web}/api/v1/chats/{chat_id}/export?format=json")
    ours = tmp_path / "Trip to Kazan.json"
    ours.write_bytes(await exported.body())
    await pick(page, ours)
    await page.locator(".toast", has_text="Chats imported: 1").wait_for()
    await in_page(page, "document.querySelectorAll('[data-testid=chat-list] li.chat').length === 3")
    assert sorted(await titles(page)) == ["Trip to Kazan", "Trip to Kazan", "Хайку о чае"]
    copy = await page.evaluate("window.chatwire.store.state.chats.find((c) => c.title === "
                               f"'Trip to Kazan' && c.id !== {chat_id!r}).id")
    await page.locator(f'[data-chat-id="{copy}"] button.open').click()
    await in_page(page, f"window.chatwire.store.state.chat?.id === {copy!r}")
    # the copy opens on the branch that was active when it was exported
    await page.locator("article.user", has_text="And where to eat?").wait_for()
    await page.locator('article.user [data-testid="branch"]:has-text("1/2")').wait_for()
    assert await messages.count() == 4
    await page.screenshot(path=str(SHOTS / "import-ours.png"))
    assert page.errors == []


async def test_an_invalid_file_shows_the_server_s_error_and_adds_nothing(browser, web, tmp_path):
    context = await browser.new_context(locale="ru-RU", viewport={"width": 1200, "height": 800})
    context.set_default_timeout(8000)
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        await page.goto(web)
        await sign_up(page)
        assert await page.get_by_test_id("import-chats").text_content() == "Импорт"
        broken = tmp_path / "conversations.json"
        broken.write_text('[{"title": "Lost", "mapping": {"a": {"parent": "ghost", "children": []}}}]')
        await pick(page, broken)
        toast = page.locator(".toast", has_text="Ничего не импортировано")
        await toast.wait_for()
        assert "node a: parent: ghost is not in the mapping" in await toast.text_content()
        SHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SHOTS / "import-invalid.png"))
        empty = tmp_path / "empty.json"
        empty.write_bytes(b"")
        await pick(page, empty)
        await page.locator(".toast", has_text="the file is empty").wait_for()
        assert await titles(page) == []
        assert await page.locator("[data-testid=chat-list] li.empty").text_content() == "Чатов пока нет"
        assert errors == []
    finally:
        await context.close()
