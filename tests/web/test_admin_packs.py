"""Credit packs in the operator's console, in a real browser: the Packs tab lists the packs seeded
from the file; the admin changes a price, takes a pack off sale and adds one; a user's Top up
dialog shows exactly that, and the fake Stripe's hosted page asks for the new price."""
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


def pack(admin, pack_id):
    return admin.locator(f'[data-testid="admin-pack-row"][data-pack="{pack_id}"]')


async def test_the_admin_edits_the_packs_and_the_user_buys_at_the_new_price(browser, web, shop,
                                                                            stripe_api, page):
    await shop.app[CONTEXT].services.accounts.create_user("root@example.com", PASSWORD, "Root",
                                                          role="admin")
    await sign_up(page, "anna@example.com", "Anna")  # her tab is open before the changes
    console = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    admin = await console.new_page()
    errors = []
    admin.on("pageerror", lambda exc: errors.append(str(exc)))
    admin.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    await admin.goto(web)
    await admin.get_by_test_id("email").fill("root@example.com")
    await admin.get_by_test_id("password").fill(PASSWORD)
    await admin.get_by_test_id("submit").click()
    await admin.get_by_test_id("admin").click()
    await admin.get_by_test_id("admin-tab-packs").click()
    await admin.get_by_test_id("admin-pack-row").first.wait_for()
    assert await admin.get_by_test_id("admin-pack-row").count() == 3
    assert await pack(admin, "starter").get_by_test_id("pack-price").input_value() == "5.00"
    assert await pack(admin, "starter").get_by_test_id("pack-credits").input_value() == "5"
    # Stripe here takes USD and EUR only: the rouble pack is listed as not sold.
    assert "no enabled provider takes RUB" in await pack(admin, "rub").text_content()

    await pack(admin, "starter").get_by_test_id("pack-price").fill("7.50")
    await pack(admin, "starter").get_by_test_id("pack-save").click()
    await admin.get_by_text("Saved: 5 credits now costs $7.50.").wait_for()
    await pack(admin, "big").get_by_test_id("pack-enabled").uncheck()
    await pack(admin, "big").get_by_test_id("pack-save").click()
    await in_page(admin, "document.querySelector('[data-pack=big]')?.classList.contains('off')")
    new = admin.get_by_test_id("pack-new")
    await new.get_by_test_id("pack-add").click()  # no id: refused before anything is sent
    await admin.get_by_text("Give the new pack an id, e.g. starter.").wait_for()
    await new.get_by_test_id("pack-id").fill("mega")
    await new.get_by_test_id("pack-price").fill("0")
    await new.get_by_test_id("pack-add").click()
    await admin.get_by_text("Enter a price above zero, e.g. 5.00.").wait_for()
    await new.get_by_test_id("pack-title").fill("Mega pack")
    await new.get_by_test_id("pack-price").fill("20")
    await new.get_by_test_id("pack-credits").fill("25.5")
    await new.get_by_test_id("pack-add").click()
    await pack(admin, "mega").wait_for()
    assert await pack(admin, "mega").get_by_test_id("pack-price").input_value() == "20.00"
    SHOTS.mkdir(exist_ok=True)
    await admin.screenshot(path=str(SHOTS / "admin-packs.png"))
    rows = await shop.app[CONTEXT].services.db.fetchall(
        "SELECT id, price, credits, enabled FROM credit_packs ORDER BY position")
    assert [(r["id"], r["price"], r["credits"], bool(r["enabled"])) for r in rows] == [
        ("starter", 750, 5_000_000, True), ("big", 4000, 50_000_000, False),
        ("rub", 49900, 10_000_000, True), ("mega", 2000, 25_500_000, True)]
    assert await pack(admin, "mega").get_by_test_id("pack-currency").input_value() == "usd"

    await admin.keyboard.press("Escape")
    await admin.get_by_test_id("language").click()  # the console in Russian
    await admin.get_by_test_id("admin").click()
    await admin.get_by_test_id("admin-tab-packs").click()
    await admin.get_by_text("Добавить пакет").wait_for()
    assert await admin.get_by_test_id("admin-tab-packs").text_content() == "Пакеты"
    await admin.get_by_test_id("admin-tab-audit").click()
    await in_page(admin, "document.querySelectorAll('[data-testid=audit-row]').length === 3")
    log = await admin.get_by_test_id("audit-log").text_content()
    assert "Изменён пакет" in log and "starter; price: 500 → 750" in log
    assert "Добавлен пакет" in log and "mega “Mega pack”" in log
    await admin.screenshot(path=str(SHOTS / "admin-packs-audit-ru.png"))
    assert errors == []
    await console.close()

    # Anna's tab, open all along: Top up shows the packs as they are now.
    await page.get_by_test_id("topup").click()
    await page.get_by_test_id("pack-starter").wait_for()
    assert "$7.50" in await page.get_by_test_id("pack-starter").text_content()
    assert await page.get_by_test_id("pack-big").count() == 0
    mega = await page.get_by_test_id("pack-mega").text_content()
    assert "Mega pack" in mega and "$20.00" in mega and "25.5" in mega
    await page.get_by_test_id("buy-starter-stripe").click()
    await page.wait_for_selector("text=Fake Stripe Checkout")
    assert "7.50 USD" in await page.locator("#amount").text_content()
    assert page.errors == []
