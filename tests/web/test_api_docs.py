"""Swagger UI at /api/docs, offline: it renders every REST operation from the vendored bundle and
can call the API (Try it out)."""
import json


async def test_swagger_ui_lists_every_route_and_signs_up_offline(context, web):
    page = await context.new_page()
    elsewhere: list[str] = []

    async def only_our_server(route):
        if route.request.url.startswith(web):
            await route.continue_()
        else:  # no CDN, no fonts, no telemetry: the docs must work with no network
            elsewhere.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_our_server)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    document = await (await page.request.get(f"{web}/api/openapi.json")).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    await page.goto(f"{web}/api/docs")
    await page.wait_for_selector("text=Chatwire REST API")
    await page.wait_for_function(f"document.querySelectorAll('.opblock').length >= {operations}")
    assert await page.locator(".opblock").count() == operations  # every documented operation

    register = page.locator(".opblock-post", has_text="/api/v1/auth/register")
    await register.locator(".opblock-summary").click()
    await register.locator("button.try-out__btn").click()
    body = {"email": "docs@example.com", "password": "correct horse battery"}
    await register.locator("textarea.body-param__text").fill(json.dumps(body))
    await register.locator("button.execute").click()
    status = register.locator(".live-responses-table tr.response .response-col_status").first
    await status.wait_for()
    assert (await status.inner_text()).strip() == "201"
    assert "access_token" in await register.locator(".live-responses-table").inner_text()
    assert elsewhere == []
    assert errors == []
