"""Topping up from the web client against the local Stripe and YooKassa fakes: the Top up entry,
the provider's hosted page, the return page pending until the webhook, the balance arriving."""
from dataclasses import replace

import pytest

from server.web import create_app
from tests.billing import browser_settings, stripe_settings, write_packs, yookassa_settings
from tests.helpers import SHOTS, free_port, in_page, sign_up


@pytest.fixture
async def shop(aiohttp_server, tmp_path, stripe_api, yookassa_api):
    """A server selling packs through both fakes; providers send the user back to it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    packs = write_packs(tmp_path)
    settings = browser_settings(tmp_path)
    settings = replace(settings, public_url=base, stripe_currencies=("usd", "rub"),
                       **stripe_settings(stripe_api.url, packs),
                       **{k: v for k, v in yookassa_settings(yookassa_api.api, packs).items()
                          if k.startswith("yookassa")})
    await aiohttp_server(create_app(settings), port=port)
    stripe_api.webhook_url = f"{base}/api/v1/billing/webhooks/stripe"
    yookassa_api.webhook_url = f"{base}/api/v1/billing/webhooks/yookassa"
    return base


@pytest.fixture
async def web(shop):
    return shop


async def shot(page, name):
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"billing-{name}.png"))


async def test_top_up_from_the_ui_with_each_provider_and_see_the_balance_arrive(page, yookassa_api):
    await sign_up(page)
    assert (await page.get_by_test_id("balance").text_content()).strip() == "0.00"
    await page.get_by_test_id("topup").click()
    await page.get_by_test_id("pack-starter").wait_for()
    await shot(page, "packs")
    # The rouble pack is sold through either provider: the user chooses; the dollar one by Stripe.
    assert await page.get_by_test_id("buy-rub-stripe").text_content() == "Pay with Stripe"
    assert await page.get_by_test_id("buy-rub-yookassa").text_content() == "Pay with ЮKassa"
    await page.get_by_test_id("buy-starter-stripe").click()
    await page.wait_for_selector("text=Fake Stripe Checkout")
    assert "$5.00" in await page.locator("#amount").text_content() or \
        "5.00 USD" in await page.locator("#amount").text_content()
    await page.locator("#pay").click()
    # Back home: the webhook came before the redirect, so the page says credited at once.
    await page.wait_for_selector('[data-testid="payment-state"].order-paid')
    assert "Credited" in await page.get_by_test_id("payment-state").text_content()
    await in_page(page, "document.querySelector('[data-testid=balance]').textContent.trim() === '5.00'")
    assert await page.evaluate("location.pathname") == "/"
    await shot(page, "credited")
    await page.keyboard.press("Escape")

    # In Russian, through YooKassa, with the notification late: "pending" until it arrives.
    yookassa_api.notify_on_pay = False
    await page.get_by_test_id("language").click()
    await page.get_by_test_id("topup").click()
    await page.get_by_test_id("buy-rub-yookassa").click()
    await page.wait_for_selector("text=Fake YooKassa")
    await page.locator("#pay").click()
    await page.wait_for_selector('[data-testid="payment-state"].order-pending')
    assert "Ожидаем" in await page.get_by_test_id("payment-state").text_content()
    await shot(page, "pending-ru")
    payment = list(yookassa_api.payments.values())[-1]
    status, body = await yookassa_api.notify("payment.succeeded", payment)
    assert (status, body["outcome"]) == (200, "credited")
    await page.wait_for_selector('[data-testid="payment-state"].order-paid')
    assert "Зачислено" in await page.get_by_test_id("payment-state").text_content()
    await in_page(page, "document.querySelector('[data-testid=balance]').textContent.trim() === '15,00'")
    await page.keyboard.press("Escape")

    # The transactions dialog lists both purchases, credited.
    await page.get_by_test_id("balance").click()
    await page.get_by_test_id("orders").wait_for()
    assert await page.get_by_test_id("order").count() == 2
    assert await page.locator('[data-testid="orders"] .order-paid').count() == 2
    await shot(page, "orders-ru")
    assert page.errors == []


async def test_no_provider_means_no_top_up_at_all(context, aiohttp_server, tmp_path):
    server = await aiohttp_server(create_app(browser_settings(tmp_path, credit_packs=write_packs(tmp_path))))
    page = await context.new_page()
    await page.goto(str(server.make_url("")))
    await sign_up(page)
    await page.wait_for_timeout(300)
    assert await page.get_by_test_id("topup").is_hidden()
    await page.get_by_test_id("balance").click()
    await page.get_by_text("Transactions").first.wait_for()
    assert await page.get_by_test_id("orders").count() == 0
