"""Password reset by mail and email verification in Chromium: the mails are caught by a real local
SMTP server (aiosmtpd) and their links opened in the page."""
from __future__ import annotations

import pytest

from providers.factory import ProviderSettings
from server.config import Settings
from server.web import create_app
from tests.fakes.smtp import link_in
from tests.helpers import PASSWORD, SHOTS, chat_open, free_port, in_page, last_reply, send

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def serve_mail(mailbox, aiohttp_server, tmp_path):
    """Start a server like the other browser tests' (SQLite, cheap hashing, a quick echo) that
    mails `mailbox`, its links pointing at itself; its base URL."""
    async def start(**overrides):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / 'mail.db'}", secret_key="s" * 48,
            jwt_secret_key="j" * 48, var_dir=tmp_path / "var", upload_dir=tmp_path / "uploads",
            argon2_time_cost=1, argon2_memory_cost=1024, ws_heartbeat_s=5,
            providers=ProviderSettings(echo_tokens_per_second=40), signup_credits=100_000_000,
            smtp_url=mailbox.url, mail_from="Chatwire <noreply@example.com>", public_url=base,
            **overrides)
        await aiohttp_server(create_app(settings), port=port)
        return base
    return start


async def open_page(browser, base, locale="en-US"):
    context = await browser.new_context(locale=locale, viewport={"width": 1200, "height": 800})
    context.set_default_timeout(8000)
    page = await context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    # A refused request (400, 429) is logged by Chromium itself; anything else is ours.
    page.on("console", lambda msg: msg.type == "error" and "Failed to load resource" not in msg.text
            and page.errors.append(msg.text))
    await page.goto(base)
    return page


async def shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"))


async def forgot(page, email):
    await page.get_by_test_id("forgot-password").click()
    await page.get_by_test_id("reset-email").fill(email)
    await page.get_by_test_id("reset-send").click()
    await page.get_by_test_id("check-mail").wait_for()


async def choose(page, password=NEW_PASSWORD):
    await page.get_by_test_id("new-password").fill(password)
    await page.get_by_test_id("repeat-password").fill(password)
    await page.get_by_test_id("reset-confirm").click()


async def test_forgot_password_by_mail_then_a_new_password_signs_in(browser, serve_mail, mailbox):
    base = await serve_mail()
    page = await open_page(browser, base)
    await page.request.post(f"{base}/api/v1/auth/register",
                            data={"email": "anna@example.com", "password": PASSWORD})
    await page.context.clear_cookies()
    await page.reload()
    await forgot(page, "anna@example.com")
    assert "anna@example.com" in await page.get_by_test_id("check-mail").inner_text()
    await shot(page, "reset-check-mail-en")
    mail = await mailbox.next_mail("anna@example.com")
    assert mail["Subject"] == "Reset your Chatwire password"
    await page.goto(link_in(mail))
    await page.get_by_test_id("new-password").wait_for()
    assert "#reset=" not in page.url  # the token is wiped from the address bar
    await shot(page, "reset-choose-en")
    await choose(page, "aaaaaaaaaa")  # too easy: refused, and the link still works
    await in_page(page, "document.querySelector('[role=alert]')?.textContent.includes('easy')")
    await choose(page)
    await page.get_by_test_id("composer").wait_for()
    await chat_open(page)
    assert await page.get_by_text("Your password is changed; you are signed in.").is_visible()
    await shot(page, "reset-signed-in-en")
    # the same link again: refused, in words a person reads
    await page.goto(link_in(mail))
    await choose(page, "yet another passphrase")
    await page.get_by_text("This link is invalid, already used or expired.").wait_for()
    assert page.errors == []


async def test_the_reset_in_russian(browser, serve_mail, mailbox):
    base = await serve_mail()
    page = await open_page(browser, base, locale="ru-RU")
    await page.request.post(f"{base}/api/v1/auth/register",
                            data={"email": "anna@example.com", "password": PASSWORD})
    await page.context.clear_cookies()
    await page.reload()
    assert await page.get_by_test_id("forgot-password").inner_text() == "Забыли пароль?"
    await shot(page, "login-forgot-ru")
    await forgot(page, "anna@example.com")
    assert "ссылка для сброса пароля" in await page.get_by_test_id("check-mail").inner_text()
    await shot(page, "reset-check-mail-ru")
    mail = await mailbox.next_mail("anna@example.com")
    assert mail["Subject"] == "Сброс пароля Chatwire"  # the interface's language
    await page.goto(link_in(mail))
    await page.get_by_test_id("new-password").wait_for()
    assert await page.get_by_test_id("reset-confirm").inner_text() == "Сохранить пароль"
    await shot(page, "reset-choose-ru")
    await choose(page)
    await page.get_by_test_id("composer").wait_for()
    assert page.errors == []


async def test_without_mail_the_login_form_offers_no_reset(page):
    await page.get_by_test_id("auth").wait_for()
    assert await page.get_by_test_id("submit").is_visible()
    assert await page.get_by_test_id("forgot-password").count() == 0
    assert page.errors == []


async def test_verify_your_email_banner_until_the_link_is_opened(browser, serve_mail, mailbox):
    base = await serve_mail(require_email_verification=True)
    page = await open_page(browser, base)
    await page.get_by_test_id("switch-auth").click()
    await page.get_by_test_id("email").fill("anna@example.com")
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("submit").click()
    await page.get_by_test_id("composer").wait_for()
    await chat_open(page)
    banner = page.get_by_test_id("verify-banner")
    assert await banner.is_visible()
    first = await mailbox.next_mail("anna@example.com")
    assert first["Subject"] == "Confirm your email for Chatwire"
    await page.get_by_test_id("composer").fill("hello")
    await page.get_by_test_id("composer").press("Enter")
    await page.get_by_text("Confirm your email first: open the link we mailed you.").first.wait_for()
    await shot(page, "verify-banner-en")
    # Refused before anything is stored: no empty chat in the list, the text still there to send.
    assert await page.locator("[data-testid=chat-list] li.chat").count() == 0
    assert await page.get_by_test_id("composer").input_value() == "hello"
    await page.get_by_test_id("verify-resend").click()
    await page.get_by_text("A new link is on its way.").wait_for()
    second = await mailbox.next_mail("anna@example.com", after=mailbox.mails.index(first) + 1)
    await page.goto(link_in(second))
    await page.get_by_test_id("composer").wait_for()
    await chat_open(page)
    await page.get_by_text("Your email is confirmed.").wait_for()
    assert await banner.is_hidden()
    await send(page, "hello again")
    await last_reply(page)
    assert await page.locator("[data-testid=chat-list] li.chat").count() == 1
    await shot(page, "verify-done-en")
    assert page.errors == []
