"""The console's Usage view in a real browser: after a user's replies, an admin opens it, sees the
charts (uPlot canvases, under the page's CSP) and the tables beside them with the ledger's
figures, switches the period, and downloads a table as CSV — the server's own figures."""
import csv
import io
from pathlib import Path

from server.web.state import CONTEXT
from tests.helpers import PASSWORD, SHOTS, chat_open, in_page, send, sign_up


async def test_usage_charts_tables_and_csv(browser, web, web_server, page):
    await web_server.app[CONTEXT].services.accounts.create_user(
        "root@example.com", PASSWORD, "Root", role="admin")
    await sign_up(page, "anna@example.com", "Анна")
    await chat_open(page)
    await send(page, "Привет")
    await send(page, "Ещё раз")
    db = web_server.app[CONTEXT].services.db
    await in_page(page, "window.chatwire.store.state.messages.at(-1).status === 'complete'")
    spent = -int(await db.fetchval(
        "SELECT COALESCE(SUM(amount), 0) AS n FROM transactions WHERE kind IN ('usage', 'refund')"))

    console = await browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900},
                                        accept_downloads=True)
    admin = await console.new_page()
    errors, console_errors = [], []
    admin.on("pageerror", lambda exc: errors.append(str(exc)))
    admin.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    await admin.goto(web)
    await admin.get_by_test_id("email").fill("root@example.com")
    await admin.get_by_test_id("password").fill(PASSWORD)
    await admin.get_by_test_id("submit").click()
    await admin.get_by_test_id("admin").click()
    await admin.get_by_test_id("admin-tab-usage").click()
    await admin.get_by_test_id("usage-chart-day").locator("canvas").wait_for()
    for name in ("day", "tokens", "users", "model"):
        assert await admin.get_by_test_id(f"usage-chart-{name}").locator("canvas").count() == 1
    assert await admin.get_by_test_id("admin-tab-usage").text_content() == "Расход"
    assert await admin.get_by_test_id("usage-row-day").count() == 30
    users = admin.get_by_test_id("usage-row-user")
    assert await users.count() == 1 and "anna@example.com" in await users.text_content()
    models = await admin.get_by_test_id("usage-table-model").text_content()
    assert "echo" in models
    total = (await admin.get_by_test_id("usage-total-cost").text_content()).replace("\xa0", " ")
    assert total.replace(" ", "").replace(",", ".").rstrip("0").rstrip(".") == \
        f"{spent / 1_000_000:.6f}".rstrip("0").rstrip(".")
    assert await admin.get_by_test_id("usage-total-replies").text_content() == "2"
    SHOTS.mkdir(exist_ok=True)
    await admin.screenshot(path=str(SHOTS / "admin-usage.png"))
    await admin.get_by_test_id("usage-table-provider").scroll_into_view_if_needed()
    await admin.screenshot(path=str(SHOTS / "admin-usage-providers.png"))

    await admin.get_by_test_id("usage-period").select_option("7")
    await in_page(admin, "document.querySelectorAll('[data-testid=usage-row-day]').length === 7")
    async with admin.expect_download() as download_info:
        await admin.get_by_test_id("usage-csv-user").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("usage-user-")
    rows = list(csv.reader(io.StringIO(Path(await download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["user_id", "email", "replies", "charges", "cost"]
    assert rows[1][1] == "anna@example.com" and int(rows[1][4]) == spent and rows[1][2] == "2"

    await admin.get_by_test_id("usage-period").select_option("custom")
    await admin.get_by_test_id("usage-from").fill("2020-01-01")
    await admin.get_by_text("Выберите период от 1 до 400 дней").first.wait_for()
    assert await admin.get_by_test_id("usage-row-day").count() == 7  # nothing asked for
    assert errors == [] and console_errors == [] and page.errors == []
    await console.close()
