"""chatwire-client in a browser, outside the bundled app: clients/js/example/ served from another
origin, signing in with tokens (the `auth` frame, the token provider) against a real server that
lists that origin in CORS_ORIGINS. A socket dropped mid-reply ends with exactly the stored text."""
from pathlib import Path

import pytest
from aiohttp import web as aioweb

from providers.factory import ProviderSettings
from server.config import Settings
from server.web import create_app
from tests.helpers import SHOTS, in_page

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "js"


@pytest.fixture
async def example(aiohttp_server, tmp_path):
    """(the example page's address, the Chatwire server's), on two origins."""
    pages = aioweb.Application()
    pages.router.add_static("/", PACKAGE)
    page_server = await aiohttp_server(pages)
    page_origin = str(page_server.make_url("")).rstrip("/")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'example.db'}", secret_key="s" * 48,
                        jwt_secret_key="j" * 48, var_dir=tmp_path / "var",
                        upload_dir=tmp_path / "uploads", argon2_time_cost=1,
                        argon2_memory_cost=1024, signup_credits=100_000_000,
                        providers=ProviderSettings(echo_tokens_per_second=30),
                        cors_origins=(page_origin,))
    chatwire = await aiohttp_server(create_app(settings))
    return f"{page_origin}/example/index.html", str(chatwire.make_url("")).rstrip("/")


async def test_a_page_on_the_library_survives_a_drop_mid_reply_with_the_exact_text(context, example):
    url, server = example
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    await page.goto(f"{url}?server={server}")
    await page.fill("#email", "example@example.com")
    await page.fill("#password", "correct horse battery")
    await page.click("button[value=register]")
    await page.wait_for_selector('#state[data-state="connected"]')
    words = " ".join(f"слово{i}" for i in range(60))
    await page.fill("#input", words)
    await page.click("#composer button[type=submit]")
    await in_page(page, "document.querySelector('.message.assistant .body')?.textContent.includes('слово8')")
    await page.click("#drop")
    await page.wait_for_selector('#state[data-state="reconnecting"]', state="attached")
    await page.wait_for_selector('#state[data-state="connected"]')
    check = page.locator('.message.assistant [data-testid="check"]')
    await check.wait_for(timeout=15000)
    assert await check.text_content() == "✓ exactly the stored text"
    assert (await page.locator(".message.assistant .body").text_content()).strip() == words
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "js-client-example.png"), full_page=True)
    assert await page.locator("#signin").is_hidden()
    assert errors == []
