"""The web client in a real headless Chromium (Debian's, at /usr/bin/chromium) against a real
server with the offline echo model. Screenshots of failing tests go to a temporary folder."""
from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from providers.factory import ProviderSettings
from server.config import Settings
from server.web import create_app
from tests import services
from tests.helpers import SHOTS

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_call = report.failed


@pytest.fixture
async def web(web_server):
    return str(web_server.make_url("")).rstrip("/")


def web_settings(tmp_path, **overrides) -> Settings:
    """The browser tests' server: SQLite, cheap hashing, a quick echo, plenty of credits."""
    values = dict(database_url=f"sqlite:///{tmp_path / 'web.db'}", secret_key="s" * 48,
                  jwt_secret_key="j" * 48, var_dir=tmp_path / "var", upload_dir=tmp_path / "uploads",
                  argon2_time_cost=1, argon2_memory_cost=1024,
                  providers=ProviderSettings(echo_tokens_per_second=40),
                  signup_credits=100_000_000, ws_heartbeat_s=5)
    return Settings(**{**values, **overrides})


@pytest.fixture
async def web_server(aiohttp_server, tmp_path):
    """The server behind `web` (a test may seed it through its services)."""
    return await aiohttp_server(create_app(web_settings(tmp_path)))


@pytest.fixture
async def web_poor(aiohttp_server, tmp_path):
    """The same server, but new accounts get no credits."""
    server = await aiohttp_server(create_app(web_settings(tmp_path, signup_credits=0)))
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def web_with_vendors(aiohttp_server, tmp_path, vendor):
    """The same server, its OpenAI, Anthropic and Gemini models served by the fake vendor."""
    from tests.helpers import vendor_providers

    settings = web_settings(tmp_path, providers=vendor_providers(vendor.url))
    server = await aiohttp_server(create_app(settings))
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        services.unavailable("Chromium", f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        await browser.close()


@pytest.fixture
async def context(browser, request):
    context = await browser.new_context(locale="en-US", viewport={"width": 1200, "height": 800})
    context.set_default_timeout(8000)
    yield context
    if getattr(request.node, "failed_call", False):
        SHOTS.mkdir(exist_ok=True)
        for i, page in enumerate(context.pages):
            await page.screenshot(path=str(SHOTS / f"{request.node.name}-{i}.png"), full_page=True)
        print(f"screenshots in {SHOTS}")
    await context.close()


@pytest.fixture
async def page(context, web):
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.dialogs = []

    def answer(dialog):  # confirm() is answered yes, and remembered
        page.dialogs.append(dialog.message)
        asyncio.ensure_future(dialog.accept())
    page.on("dialog", answer)
    page.errors = errors
    await page.goto(web)
    return page
