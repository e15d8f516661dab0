"""API keys in the account settings (issue 25 section 1), in a real browser: a key is created
(name, cap, models), shown once with a copy button, works with the official OpenAI SDK, shows
when it was last used, and once revoked is refused."""
import openai
import pytest

from tests.helpers import SHOTS, in_page, sign_up


async def open_keys(page):
    await page.get_by_test_id("settings").click()
    section = page.get_by_test_id("apikeys-section")
    await section.scroll_into_view_if_needed()
    return section


async def test_a_key_is_created_shown_once_used_and_revoked(page, web):
    await sign_up(page)
    section = await open_keys(page)
    assert await section.get_by_test_id("apikeys").text_content() == "No API keys yet."
    await page.get_by_test_id("apikey-name").fill("My script")
    await page.get_by_test_id("apikey-cap").fill("5")
    await page.get_by_test_id("apikey-models").select_option(["echo"])
    await page.get_by_test_id("apikey-create").click()
    field = page.get_by_test_id("apikey-value")
    key = await field.input_value()
    assert key.startswith("cwk-")
    assert "will not be shown again" in await page.get_by_test_id("apikey-shown").text_content()
    await page.get_by_test_id("apikey-copy").click()  # says so once the clipboard has answered
    await in_page(page, "document.querySelector('[data-testid=apikey-copy]').textContent === 'Copied'")
    row = page.get_by_test_id("apikey-row")
    text = await row.text_content()
    assert "My script" in text and key[:12] in text and key not in text
    assert "up to 5.00 credits a month" in text and "echo" in text
    assert await page.get_by_test_id("apikey-used").text_content() == "never used"
    SHOTS.mkdir(exist_ok=True)
    await section.screenshot(path=str(SHOTS / "api-keys-en.png"))

    async with openai.AsyncOpenAI(api_key=key, base_url=f"{web}/v1", max_retries=0) as client:
        done = await client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "ping"}])
        assert done.choices[0].message.content
        await page.keyboard.press("Escape")
        await page.get_by_test_id("dialog").wait_for(state="detached")
        await open_keys(page)
        assert (await page.get_by_test_id("apikey-used").text_content()).startswith("used ")

        await page.get_by_test_id("apikey-revoke").click()
        await page.get_by_text("No API keys yet.").wait_for()
        assert any("My script" in message for message in page.dialogs)
        with pytest.raises(openai.AuthenticationError):
            await client.models.list()
    assert page.errors == []


async def test_the_section_reads_in_russian(page):
    await sign_up(page)
    await page.get_by_test_id("language").click()
    await page.get_by_test_id("composer").wait_for()
    section = await open_keys(page)
    await page.get_by_test_id("apikey-name").fill("Скрипт")
    await page.get_by_test_id("apikey-create").click()
    await page.get_by_test_id("apikey-value").wait_for()
    text = await section.text_content()
    assert "API-ключи" in text and "больше он показан не будет" in text
    assert "ещё не использовался" in text and "все модели" in text
    await section.screenshot(path=str(SHOTS / "api-keys-ru.png"))
    assert page.errors == []
