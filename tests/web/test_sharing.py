"""Share links in the web client (issue 22, section 5): share a chat, open the link in a private
window (in Russian) and see the snapshot only; continue it in one's own chats; stop sharing."""
from tests.helpers import SHOTS, chat_open, in_page, last_reply, send, sign_up


async def test_a_shared_chat_opens_in_a_private_window_and_can_be_continued(page, browser, web):
    await sign_up(page)
    await send(page, "Рецепт: **пельмени** и `тесто`")
    await last_reply(page)
    assert await page.get_by_test_id("share-chat").is_visible()
    await page.get_by_test_id("share-chat").click()
    assert "not shared" in await page.get_by_test_id("share-links").text_content()
    await page.get_by_test_id("create-link").click()
    url = await page.get_by_test_id("share-url").input_value()
    assert url.startswith(f"{web}/s/")
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "share-dialog.png"))
    await page.keyboard.press("Escape")
    await send(page, "A later message, not shared")
    await last_reply(page)

    private = await browser.new_context(locale="ru-RU", viewport={"width": 900, "height": 700})
    try:
        reader = await private.new_page()
        errors = []
        reader.on("pageerror", lambda exc: errors.append(str(exc)))
        await reader.goto(url)
        messages = reader.get_by_test_id("shared-message")
        await messages.first.wait_for()
        assert await messages.count() == 2
        assert await reader.get_by_test_id("shared-title").text_content() == "Рецепт: пельмени и тесто"
        assert await messages.nth(1).locator("strong").text_content() == "пельмени"  # markdown drawn
        assert "not shared" not in await reader.locator("main").text_content()
        assert "anna@example.com" not in await reader.content()
        assert await reader.get_attribute('meta[name="robots"]', "content") == "noindex, nofollow"
        assert await reader.get_by_test_id("sign-in-to-continue").text_content() == \
            "Войдите, чтобы продолжить этот чат"
        await reader.screenshot(path=str(SHOTS / "share-page-ru.png"))
        assert errors == []

        # The owner, signed in, continues the snapshot in a new chat of their own.
        await page.goto(url)
        await page.get_by_test_id("continue-chat").click()
        await page.wait_for_url(f"{web}/")
        await chat_open(page)
        await in_page(page, "window.chatwire.store.state.messages.length === 2")
        chats = await page.evaluate("window.chatwire.call('chat.list').then((r) => r.chats.length)")
        assert chats == 2

        # Stopped sharing: the private window's reload is the "no longer shared" page.
        await page.get_by_test_id("share-chat").click()
        assert "not shared" in await page.get_by_test_id("share-links").text_content()  # the copy's
        await page.keyboard.press("Escape")
        shares = await page.evaluate("window.chatwire.call('share.list')")
        await page.evaluate("(id) => window.chatwire.call('chat.unshare', { share_id: id })",
                            shares["shares"][0]["id"])
        response = await reader.goto(url)
        assert response.status == 404
        assert "Такого общего чата нет" in await reader.locator("body").text_content()
    finally:
        await private.close()
    assert page.errors == []
