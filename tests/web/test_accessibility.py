"""axe-core on the main screens, in both themes: no violation of impact serious or critical."""
from pathlib import Path

import pytest

from tests.helpers import DRAWER_OPEN, SHOTS, chat_open, in_page, last_reply, send, sign_up

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
SERIOUS = ("serious", "critical")


@pytest.fixture
async def axe_page(browser, web):
    # axe is injected as a script of the page's own: the page's CSP would refuse it otherwise.
    context = await browser.new_context(locale="en-US", viewport={"width": 1200, "height": 800},
                                        bypass_csp=True)
    context.set_default_timeout(8000)
    page = await context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(web)
    yield page
    await context.close()


async def violations(page, screen):
    """axe's serious and critical findings on what the page shows now (also kept as a screenshot)."""
    SHOTS.mkdir(exist_ok=True)
    theme = await page.evaluate("document.documentElement.dataset.theme")
    await page.screenshot(path=str(SHOTS / f"screen-{theme}-{screen.replace(' ', '-')}.png"))
    if not await page.evaluate("Boolean(window.axe)"):
        await page.add_script_tag(path=str(AXE))
    found = await page.evaluate("""async () => {
      const result = await axe.run(document, { resultTypes: ["violations"] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
    }""")
    return [dict(v, screen=screen) for v in found if v["impact"] in SERIOUS]


async def theme(page, name):
    if await page.evaluate("document.documentElement.dataset.theme") != name:
        await page.get_by_test_id("theme").click()


@pytest.mark.parametrize("name", ["light", "dark"])
async def test_the_main_screens_have_no_serious_accessibility_violations(axe_page, name):
    page = axe_page
    await theme(page, name)
    found = await violations(page, "sign-in")
    await sign_up(page)
    found += await violations(page, "new chat")
    await send(page, "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quote\n\n```py\nx = 1\n```")
    await last_reply(page)
    found += await violations(page, "chat")
    for opener, screen in (("profile", "profile dialog"), ("balance", "transactions dialog"),
                           ("chat-settings", "chat settings dialog"),
                           ("settings", "account settings dialog")):
        await page.get_by_test_id(opener).click()
        await page.get_by_test_id("dialog").wait_for()
        found += await violations(page, screen)
        await page.keyboard.press("Escape")
        await page.get_by_test_id("dialog").wait_for(state="detached")
    await page.locator("body").click()
    await page.keyboard.press("Shift+?")
    await page.get_by_test_id("shortcuts").wait_for()
    found += await violations(page, "shortcuts dialog")
    await page.keyboard.press("Escape")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.get_by_test_id("menu").click()
    await in_page(page, DRAWER_OPEN)
    found += await violations(page, "phone drawer")
    await page.keyboard.press("Escape")
    await page.get_by_test_id("account").click()
    found += await violations(page, "phone account menu")
    assert found == []


async def test_every_control_of_the_chat_is_reachable_by_keyboard(axe_page):
    page = axe_page
    await sign_up(page)
    await chat_open(page)
    reached = set()
    for _ in range(60):
        await page.keyboard.press("Tab")
        reached.add(await page.evaluate(
            "document.activeElement.dataset.testid || document.activeElement.getAttribute('aria-label')"
            " || document.activeElement.tagName"))
    for control in ("new-chat", "composer", "send", "model", "language", "theme", "logout"):
        assert control in reached, (control, reached)
