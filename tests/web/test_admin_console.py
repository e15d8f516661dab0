"""The operator's console in a real browser: an admin finds a user by email, tops them up while
their tab is open (it arrives there, once, however the button is clicked), disables them (their
tab is signed out) and reads it all in the audit log. A non-admin has no Admin entry."""
from server.web.state import CONTEXT
from tests.helpers import PASSWORD, SHOTS, in_page, sign_up


async def test_find_top_up_disable_and_audit(browser, web, web_server, page):
    await web_server.app[CONTEXT].services.accounts.create_user(
        "root@example.com", PASSWORD, "Root", role="admin")
    await sign_up(page, "anna@example.com", "Анна")
    assert await page.get_by_test_id("admin").is_hidden()
    await in_page(page, "document.querySelector('[data-testid=balance]').textContent === '100.00'")

    console = await browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 860})
    admin = await console.new_page()
    errors = []
    admin.on("pageerror", lambda exc: errors.append(str(exc)))
    admin.on("dialog", lambda dialog: dialog.accept())
    await admin.goto(web)
    await admin.get_by_test_id("email").fill("root@example.com")
    await admin.get_by_test_id("password").fill(PASSWORD)
    await admin.get_by_test_id("submit").click()
    await admin.get_by_test_id("admin").click()
    await admin.get_by_test_id("admin-search").fill("ANNA@")
    await in_page(admin, "document.querySelectorAll('[data-testid=admin-user-row]').length === 1")
    await admin.get_by_test_id("admin-user-row").click()
    await admin.get_by_test_id("admin-deposit-amount").fill("5")
    await admin.get_by_test_id("admin-deposit").dblclick()  # one deposit, not two
    await in_page(page, "document.querySelector('[data-testid=balance]').textContent === '105.00'")
    await in_page(admin, "document.querySelector('[data-testid=admin-balance]')?.textContent"
                         ".replace(/\\s/g, '') === '105,00'")
    deposits = await web_server.app[CONTEXT].services.db.fetchval(
        "SELECT COUNT(*) AS n FROM transactions WHERE kind = 'deposit' AND created_by IS NOT NULL")
    assert deposits == 1

    # An adjustment without a note is refused before it is sent; nothing changes.
    await admin.get_by_test_id("admin-deposit-kind").select_option("adjustment")
    await admin.get_by_test_id("admin-deposit-amount").fill("-1")
    await admin.get_by_test_id("admin-deposit").click()
    await admin.get_by_text("Для корректировки нужно примечание").wait_for()

    await admin.get_by_test_id("admin-daily-cap").fill("2,5")
    await admin.get_by_test_id("admin-save-caps").click()
    await admin.get_by_text("Лимиты сохранены.").wait_for()
    SHOTS.mkdir(exist_ok=True)
    await admin.screenshot(path=str(SHOTS / "admin-user.png"))

    # Anna sees her cap, and what is left of it, in her transactions dialog (left open: signing
    # out closes it).
    await page.get_by_test_id("balance").click()
    await page.get_by_test_id("caps").wait_for()
    assert "Daily cap: 2.50 of 2.50 left" in await page.get_by_test_id("caps").text_content()

    await admin.get_by_test_id("admin-toggle-disabled").click()
    await page.get_by_test_id("auth-notice").wait_for()
    assert "disabled" in await page.get_by_test_id("auth-notice").text_content()
    await in_page(admin, "document.querySelector('[data-testid=admin-status]')?.textContent === 'Отключён'")

    await admin.get_by_test_id("admin-tab-audit").click()
    await in_page(admin, "document.querySelectorAll('[data-testid=audit-row]').length === 3")
    log = await admin.get_by_test_id("audit-log").text_content()
    assert "Пополнение" in log and "Изменён аккаунт" in log and "root@example.com" in log
    assert "anna@example.com" in log
    assert "disabled: false → true" in log and "daily_cap" in log
    await admin.screenshot(path=str(SHOTS / "admin-audit.png"))

    # Her log-in is refused, saying why.
    await page.get_by_test_id("email").fill("anna@example.com")
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("submit").click()
    await page.get_by_text("This account has been disabled").first.wait_for()
    assert errors == [] and page.errors == []
    await console.close()
