"""Flagged payments in the operator's console, in a real browser: a payment the fake Stripe reports
for another amount is flagged; the admin's header shows the alert badge, the Orders tab lists it
with what was expected and what was paid, and crediting it (with a note) moves the user's balance
in their open tab, once, and clears the alert."""
from dataclasses import replace

import pytest

from server.web import create_app
from server.web.state import CONTEXT
from tests.billing import browser_settings, stripe_settings, write_packs
from tests.helpers import PASSWORD, SHOTS, in_page, sign_up


@pytest.fixture
async def shop(aiohttp_server, tmp_path, stripe_api):
    settings = browser_settings(tmp_path)
    settings = replace(settings, **stripe_settings(stripe_api.url, write_packs(tmp_path)))
    server = await aiohttp_server(create_app(settings))
    stripe_api.webhook_url = str(server.make_url("/api/v1/billing/webhooks/stripe"))
    return server


@pytest.fixture
async def web(shop):
    return str(shop.make_url("")).rstrip("/")


async def flag_an_order(shop, stripe_api, email):
    """Anna checks out the $5 pack; Stripe reports 5 cents paid: the order is flagged."""
    services = shop.app[CONTEXT].services
    user_id = await services.db.fetchval("SELECT id FROM users WHERE email = ?", (email,))
    started = await services.billing.checkout(user_id, "starter", "stripe")
    session = dict(stripe_api.pay(started["url"].rsplit("/", 1)[1]), amount_total=5)
    status, body = await stripe_api.send("checkout.session.completed", session)
    assert (status, body["outcome"]) == (200, "flagged")
    return started["order_id"]


async def test_the_alert_the_list_and_crediting_a_flagged_order(browser, web, shop, stripe_api,
                                                                page):
    await shop.app[CONTEXT].services.accounts.create_user("root@example.com", PASSWORD, "Root",
                                                          role="admin")
    await sign_up(page, "anna@example.com", "Анна")
    assert (await page.get_by_test_id("balance").text_content()).strip() == "0.00"
    order_id = await flag_an_order(shop, stripe_api, "anna@example.com")

    console = await browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 860})
    admin = await console.new_page()
    errors = []
    admin.on("pageerror", lambda exc: errors.append(str(exc)))
    admin.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    await admin.goto(web)
    await admin.get_by_test_id("email").fill("root@example.com")
    await admin.get_by_test_id("password").fill(PASSWORD)
    await admin.get_by_test_id("submit").click()
    # The alert: the Admin entry carries the count of flagged orders.
    await in_page(admin, "document.querySelector('[data-testid=admin-alert]')?.hidden === false")
    assert await admin.get_by_test_id("admin-alert").text_content() == "1"
    await admin.get_by_test_id("admin").click()
    assert await admin.get_by_test_id("orders-alert").text_content() == "1"
    await admin.get_by_test_id("admin-tab-orders").click()
    await admin.get_by_test_id("admin-order-row").wait_for()
    row = await admin.get_by_test_id("admin-order-row").text_content()
    assert "anna@example.com" in row and "На проверке" in row and "Stripe" in row
    mismatch = (await admin.get_by_test_id("order-mismatch").text_content()).replace("\xa0", " ")
    assert "Ожидалось 5,00 $" in mismatch and "сообщила 0,05 $" in mismatch, mismatch
    SHOTS.mkdir(exist_ok=True)
    await admin.screenshot(path=str(SHOTS / "admin-orders-flagged.png"))

    # No note: refused before anything is sent.
    await admin.get_by_test_id("resolve-credit").click()
    await admin.get_by_text("Сначала напишите примечание с причиной.").wait_for()
    assert (await shop.app[CONTEXT].services.order_review.order(order_id))["status"] == "flagged"

    await admin.get_by_test_id("resolve-note").fill("Stripe support confirmed $5.00")
    await admin.get_by_test_id("resolve-credit").click()
    await in_page(page, "document.querySelector('[data-testid=balance]').textContent.trim() === '5.00'")
    # The list follows (all orders now that none is flagged); the alert is gone everywhere.
    await in_page(admin, "document.querySelector('[data-testid=order-resolution]') !== null")
    resolved = await admin.get_by_test_id("order-resolution").text_content()
    assert "Зачислено: root@example.com" in resolved and "Stripe support confirmed" in resolved
    # The count is asked for again once the row has turned: the badges follow shortly after.
    await admin.get_by_test_id("admin-alert").wait_for(state="hidden")
    await admin.get_by_test_id("orders-alert").wait_for(state="hidden")
    assert await admin.get_by_test_id("resolve-form").count() == 0
    await admin.screenshot(path=str(SHOTS / "admin-orders-resolved.png"))
    deposits = await shop.app[CONTEXT].services.db.fetchval(
        "SELECT COUNT(*) AS n FROM transactions WHERE kind = 'deposit'")
    assert deposits == 1

    await admin.get_by_test_id("admin-tab-audit").click()
    await in_page(admin, "document.querySelectorAll('[data-testid=audit-row]').length === 1")
    log = await admin.get_by_test_id("audit-log").text_content()
    assert "Зачислен заказ на проверке" in log and "status: flagged → paid" in log
    assert errors == [] and page.errors == []
    await console.close()
