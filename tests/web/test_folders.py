"""Folders in the web client (issue 22, section 6): make one with instructions, drag a chat in,
move another by its menu, open and close the folder, in English and Russian; deleting it keeps
the chats."""
from tests.helpers import SHOTS, chat_open, in_page, last_reply, send, sign_up, until

FOLDER_CHATS = ("(id) => window.chatwire.call('chat.list', { folder_id: id })"
                ".then((page) => page.chats.map((c) => c.title).sort())")


async def in_folder(page, folder_id, titles):
    return await page.evaluate(FOLDER_CHATS, folder_id) == titles


async def new_chat_with(page, text):
    await page.get_by_test_id("new-chat").click()
    await send(page, text)
    await last_reply(page)


async def test_chats_are_grouped_in_a_folder_whose_instructions_are_kept(page):
    await sign_up(page)
    await send(page, "Kazan in May")
    await last_reply(page)
    await new_chat_with(page, "Thesis outline")
    await new_chat_with(page, "Groceries")

    await page.get_by_test_id("new-folder").click()
    await page.get_by_test_id("folder-name").fill("Диссертация")
    await page.get_by_test_id("folder-instructions").fill("Answer as a careful historian.")
    await page.get_by_test_id("save-folder").click()
    folder = page.get_by_test_id("folder")
    await folder.wait_for()
    folder_id = await folder.get_attribute("data-folder-id")
    assert await folder.locator(".title").text_content() == "Диссертация"

    # Dragged onto the folder: it leaves the top level.
    chats = page.get_by_test_id("chat-list")
    outline = chats.locator("li.chat", has_text="Thesis outline")
    await outline.drag_to(folder)
    await in_page(page, "!document.querySelector('li.chat:not(.in-folder) .title')"
                        "?.closest('ul').textContent.includes('Thesis outline')")
    # Moved by its menu.
    kazan = chats.locator("li.chat", has_text="Kazan in May")
    await kazan.hover()
    await kazan.get_by_test_id("move-chat-to").click()
    await page.get_by_test_id("move-to-folder").select_option(label="Диссертация")
    await page.get_by_test_id("move-chat").click()
    assert await page.evaluate(FOLDER_CHATS, folder_id) == ["Kazan in May", "Thesis outline"]
    top = chats.locator("li.chat:not(.in-folder)")
    await in_page(page, "document.querySelectorAll('li.chat:not(.in-folder)').length === 1")
    assert await top.locator(".title").all_text_contents() == ["Groceries"]

    # Opened, the folder shows its chats under it; and the choice outlives a reload.
    await folder.locator("button.open").click()
    inside = chats.locator("li.chat.in-folder .title")
    await in_page(page, "document.querySelectorAll('li.chat.in-folder').length === 2")
    assert sorted(await inside.all_text_contents()) == ["Kazan in May", "Thesis outline"]
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "folders-en.png"))
    await page.reload()
    await chat_open(page)
    await in_page(page, "document.querySelectorAll('li.chat.in-folder').length === 2")
    # Dragged out onto the list, a chat is back at the top level; dragged in again, in the folder.
    await chats.locator("li.chat.in-folder", has_text="Thesis outline").drag_to(
        top.filter(has_text="Groceries"))
    await until(lambda: in_folder(page, folder_id, ["Kazan in May"]))
    await in_page(page, "document.querySelectorAll('li.chat.in-folder').length === 1")
    await top.filter(has_text="Thesis outline").drag_to(folder)
    await in_page(page, "document.querySelectorAll('li.chat.in-folder').length === 2")

    # Its instructions, edited in its dialog.
    await folder.hover()
    await folder.get_by_role("button", name="Edit folder").click()
    assert await page.get_by_test_id("folder-instructions").input_value() == \
        "Answer as a careful historian."
    await page.get_by_test_id("folder-instructions").fill("Answer briefly.")
    await page.get_by_test_id("save-folder").click()
    await in_page(page, "window.chatwire.call('folder.list').then((r) =>"
                        " r.folders[0].instructions === 'Answer briefly.')")

    await page.get_by_test_id("language").click()
    await chat_open(page)
    headings = await chats.locator("li.group").all_text_contents()
    assert headings[0] == "Папки" and "Чаты" in headings
    await folder.hover()
    await page.screenshot(path=str(SHOTS / "folders-ru.png"))

    # Deleted (confirmed), its chats are back at the top level.
    await folder.get_by_role("button", name="Удалить папку").click()
    assert page.dialogs and "Диссертация" in page.dialogs[-1]
    await in_page(page, "!document.querySelector('[data-testid=folder]')"
                        " && document.querySelectorAll('li.chat').length === 3")
    assert await page.evaluate("window.chatwire.call('folder.list').then((r) => r.folders.length)") == 0
    assert page.errors == []
