"""The web client's files: chatwire-client (clients/js/src) is served at /static/chatwire-client/
beside static/, as JavaScript from the page's own origin (its strict CSP allows that only), and nothing outside that folder is."""


async def test_the_js_client_library_is_served_as_a_module_under_the_csp(client):
    resp = await client.get("/static/chatwire-client/index.js")
    assert resp.status == 200
    assert resp.content_type in ("application/javascript", "text/javascript")
    assert "export class ChatwireClient" in await resp.text()
    assert resp.headers["X-Content-Type-Options"] == "nosniff"  # a module must be JavaScript
    page = await client.get("/")  # the page's CSP allows scripts from this origin only: it is one
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    wrapper = await client.get("/static/js/socket.js")
    assert 'from "/static/chatwire-client/index.js"' in await wrapper.text()


async def test_nothing_outside_the_library_folder_is_served(client):
    for path in ("/static/chatwire-client/../package.json", "/static/chatwire-client/%2e%2e/package.json",
                 "/static/chatwire-client/../../../setup.cfg", "/static/chatwire-client/missing.js"):
        resp = await client.get(path)
        assert resp.status in (403, 404), path
    assert (await client.get("/static/app.css")).status == 200  # the rest of static/ still is
