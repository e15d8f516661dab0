"""“Download my data” and “Delete account” in the account settings dialog, in a real browser."""
import io
import json
import zipfile
from pathlib import Path

from tests.helpers import PASSWORD, SHOTS, last_reply, send, sign_up


async def test_my_data_downloads_as_a_zip(page):
    await sign_up(page)
    await send(page, "Что посмотреть в Казани?")
    await last_reply(page)
    await page.get_by_test_id("settings").click()
    async with page.expect_download() as download:
        await page.get_by_test_id("download-data").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(await (await download.value).path()).read_bytes()))
    chats = [name for name in archive.namelist() if name.startswith("chats/")]
    assert len(chats) == 1
    tree = json.loads(archive.read(chats[0]))
    assert [m["role"] for m in tree["messages"]] == ["user", "assistant"]
    assert json.loads(archive.read("profile.json"))["user"]["email"] == "anna@example.com"
    assert "Your Chatwire data" in archive.read("README.txt").decode()
    assert page.errors == []


async def test_deleting_the_account_lands_on_sign_in_and_the_login_then_fails(page):
    await sign_up(page)
    await page.get_by_test_id("language").click()
    await page.get_by_test_id("composer").wait_for()
    await page.get_by_test_id("settings").click()
    zone = page.get_by_test_id("danger-zone")
    await zone.scroll_into_view_if_needed()
    await page.get_by_test_id("delete-account").click()  # no password yet
    assert await page.get_by_test_id("delete-status").text_content() == "Сначала введите пароль"
    await page.get_by_test_id("delete-password").fill("not the password")
    await page.get_by_test_id("delete-account").click()
    await page.get_by_test_id("delete-confirm").click()
    await page.wait_for_selector('[data-testid=delete-status]:not(:empty)')
    assert await page.get_by_test_id("delete-status").text_content() == "Пароль неверный"
    await page.get_by_test_id("delete-password").fill(PASSWORD)
    await page.get_by_test_id("delete-account").click()
    await page.get_by_test_id("delete-confirm").scroll_into_view_if_needed()
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "account-delete-ru.png"))
    await page.get_by_test_id("delete-confirm").click()
    await page.get_by_test_id("auth").wait_for()  # the sign-in screen
    assert await page.get_by_test_id("dialog").count() == 0
    await page.get_by_test_id("email").fill("anna@example.com")
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("submit").click()
    await page.wait_for_selector("[data-testid=auth] .error:not(:empty)")
    assert await page.get_by_test_id("composer").count() == 0
    assert page.errors == []
