"""Password reset by email and optional email verification, through a real local SMTP server
(aiosmtpd) that catches the mails, on both engines."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest

from server.config import ConfigError, settings_from
from server.web.state import CONTEXT
from storage import users
from storage.base import iso
from tests.fakes.smtp import link_in, token_in
from tests.helpers import PASSWORD, auth, free_port, open_socket, register, until

NEW_PASSWORD = "a brand new passphrase"
BASE = "http://chat.example.com"
MAIL = dict(mail_from="Chatwire <noreply@example.com>", public_url=BASE)


@pytest.fixture
async def mc(mailbox, make_client):
    """A server instance that sends mail to `mailbox`."""
    return await make_client(smtp_url=mailbox.url, **MAIL)


async def ask_reset(client, email, **extra):
    resp = await client.post("/api/v1/auth/password-reset", json={"email": email, **extra.pop("body", {})},
                             **extra)
    return resp.status, await resp.json()


async def confirm(client, token, password=NEW_PASSWORD):
    resp = await client.post("/api/v1/auth/password-reset/confirm",
                             json={"token": token, "password": password})
    return resp.status, await resp.json()


async def log_in(client, email="alice@example.com", password=PASSWORD):
    resp = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    return resp.status


async def reset_token(client, mailbox, email="alice@example.com", **extra):
    before = len(mailbox.mails)
    assert (await ask_reset(client, email, **extra))[0] == 202
    return token_in(await mailbox.next_mail(email, before), "reset")


async def test_a_reset_through_the_mail_sets_the_password_and_ends_every_session(mc, mailbox):
    alice = await register(mc, "alice@example.com")
    phone = await register(mc, "bob@example.com")  # another account, untouched
    sock = await open_socket(mc, alice)
    status, body = await ask_reset(mc, "Alice@Example.com", body={"lang": "en"})
    assert (status, body) == (202, {"requested": True})
    mail = await mailbox.next_mail("alice@example.com")
    assert mail["Subject"] == "Reset your Chatwire password"
    assert mail["From"] == "Chatwire <noreply@example.com>"
    assert link_in(mail).startswith(f"{BASE}/#reset=")
    assert "30 minutes" in mail.get_body().get_content()
    status, body = await confirm(mc, token_in(mail, "reset"))
    assert (status, body) == (200, {"changed": True, "email": "alice@example.com"})
    assert await sock.closed() == 4401
    resp = await mc.post("/api/v1/auth/refresh", json={"refresh_token": alice["refresh_token"]})
    assert resp.status == 401
    assert (await mc.get("/api/v1/auth/me", headers=auth(alice))).status == 401
    assert await log_in(mc) == 401
    assert await log_in(mc, password=NEW_PASSWORD) == 200
    assert await log_in(mc, "bob@example.com") == 200
    assert (await mc.get("/api/v1/auth/me", headers=auth(phone))).status == 200


async def test_the_mail_is_in_the_language_asked_for_or_the_browser_s(mc, mailbox):
    await register(mc, "alice@example.com")
    await reset_token(mc, mailbox, body={"lang": "ru"})
    assert mailbox.mails[-1]["Subject"] == "Сброс пароля Chatwire"
    assert "30 минут" in mailbox.mails[-1].get_body().get_content()
    await reset_token(mc, mailbox, headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert mailbox.mails[-1]["Subject"] == "Сброс пароля Chatwire"
    await reset_token(mc, mailbox, body={"lang": "de"}, headers={"Accept-Language": "de, en"})
    assert mailbox.mails[-1]["Subject"] == "Reset your Chatwire password"


async def test_asking_tells_nothing_about_whether_an_account_exists(mc, mailbox):
    await register(mc, "alice@example.com")
    known = await ask_reset(mc, "alice@example.com")
    unknown = await ask_reset(mc, "nobody@example.com")
    assert known == unknown == (202, {"requested": True})
    await mc.app[CONTEXT].services.mail_links.mailer.drain()
    assert [m["To"] for m in mailbox.mails] == ["alice@example.com"]


async def test_a_dead_smtp_server_does_not_hold_the_answer(make_client):
    """The mail goes in the background: an SMTP server that never greets costs the request
    nothing, for an account that exists as for one that does not."""
    held = []

    async def silent(reader, writer):  # never greets; ends when the client hangs up
        held.append(writer)
        await reader.read()
        writer.close()
    port = free_port()
    server = await asyncio.start_server(silent, "127.0.0.1", port)
    try:
        mc = await make_client(smtp_url=f"smtp://127.0.0.1:{port}", **MAIL)
        await register(mc, "alice@example.com")
        for email in ("alice@example.com", "nobody@example.com"):
            started = time.monotonic()
            assert await ask_reset(mc, email) == (202, {"requested": True})
            assert time.monotonic() - started < 1.5
        await until(lambda: held, what="the mail to be on its way")
        await mc.app[CONTEXT].services.mail_links.mailer.close(grace_s=0)
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.05)  # the closed transports' last callbacks run


async def test_a_link_used_twice_expired_or_for_another_purpose_is_one_bad_request(mc, mailbox):
    ctx = mc.app[CONTEXT]
    await register(mc, "alice@example.com")
    refused = {"code": "bad_request", "field": "token",
               "message": "this link is invalid, already used or expired; ask for a new one"}
    # used twice
    token = await reset_token(mc, mailbox)
    assert (await confirm(mc, token))[0] == 200
    assert await confirm(mc, token, "yet another passphrase") == (400, {"error": refused})
    # expired (31 minutes on)
    token = await reset_token(mc, mailbox)
    past = iso(datetime.now(timezone.utc) - timedelta(minutes=1))
    await ctx.services.db.execute("UPDATE mail_tokens SET expires_at = ? WHERE used_at IS NULL",
                                  (past,))
    assert await confirm(mc, token) == (400, {"error": refused})
    # a verification link is not a reset link
    alice = await users.get_by_email(ctx.services.db, "alice@example.com")
    verify = await ctx.services.mail_links._issue(alice, "verify", timedelta(minutes=5))
    assert await confirm(mc, verify) == (400, {"error": refused})
    # a link sent to an address the account no longer has
    token = await reset_token(mc, mailbox)
    await ctx.services.db.execute("UPDATE users SET email = ?, email_key = ? WHERE email_key = ?",
                                  ("alice@elsewhere.org", "alice@elsewhere.org", "alice@example.com"))
    assert await confirm(mc, token) == (400, {"error": refused})
    # made up
    assert await confirm(mc, "x" * 43) == (400, {"error": refused})
    assert await log_in(mc, "alice@elsewhere.org", NEW_PASSWORD) == 200  # only the first worked


async def test_bad_inputs_are_refused_and_change_nothing(mc, mailbox, client):
    await register(mc, "alice@example.com")
    token = await reset_token(mc, mailbox)
    status, body = await confirm(mc, token, "short")
    assert status == 400 and body["error"]["field"] == "password"
    status, body = await confirm(mc, token, "alice@example.com")
    assert status == 400 and body["error"]["field"] == "password"
    assert await log_in(mc) == 200  # the password stayed, and the link still works once:
    assert (await confirm(mc, token))[0] == 200
    for bad in ({}, {"token": ""}, {"token": 5, "password": NEW_PASSWORD}, {"password": "x" * 9}):
        resp = await mc.post("/api/v1/auth/password-reset/confirm", json=bad)
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_request", bad
    for bad in ({}, {"email": "not an address"}, {"email": "a@example.com", "extra": 1}):
        resp = await mc.post("/api/v1/auth/password-reset", json=bad)
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_request", bad
    resp = await mc.post("/api/v1/auth/password-reset", data=b"{not json")
    assert resp.status == 400
    # a server without SMTP offers no reset at all (the operator's run.py user set-password is)
    status, body = await ask_reset(client, "alice@example.com")
    assert status == 404 and "run.py user set-password" in body["error"]["message"]
    assert len(mailbox.mails) == 1


async def test_asking_is_limited_per_address_and_per_email(mailbox, make_client):
    per_ip = await make_client(smtp_url=mailbox.url, rate_mail_per_ip_per_hour=3,
                               rate_mail_per_email_per_hour=0, **MAIL)
    for n in range(3):
        assert (await ask_reset(per_ip, f"someone{n}@example.com"))[0] == 202
    status, body = await ask_reset(per_ip, "someone9@example.com")
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert body["error"]["retry_after"] >= 1
    per_email = await make_client(smtp_url=mailbox.url, rate_mail_per_ip_per_hour=0,
                                  rate_mail_per_email_per_hour=2, **MAIL)
    await register(per_email, "alice@example.com")
    answers = [await ask_reset(per_email, email) for email in
               ("alice@example.com", "ALICE@example.com", "alice@example.com",
                "nobody@example.com", "nobody@example.com", "nobody@example.com")]
    statuses = [status for status, _ in answers]
    assert statuses == [202, 202, 429, 202, 202, 429]  # the same with and without an account
    assert answers[2][1] == answers[5][1]


# -- the public switch -------------------------------------------------------------------------

async def test_the_login_screen_can_read_whether_mail_is_on(client, mc):
    assert await (await client.get("/api/v1/auth/session")).json() == {
        "user": None, "mail": False, "email_verification": False}
    assert await (await mc.get("/api/v1/auth/session")).json() == {
        "user": None, "mail": True, "email_verification": False}


# -- email verification ---------------------------------------------------------------------------

@pytest.fixture
async def strict(mailbox, make_client):
    return await make_client(smtp_url=mailbox.url, require_email_verification=True, **MAIL)


async def test_an_unverified_account_signs_in_but_sends_only_after_the_link(strict, mailbox):
    anna = await register(strict, "anna@example.com", lang="ru")
    assert anna["user"]["email_verified"] is False
    mail = await mailbox.next_mail("anna@example.com")
    assert mail["Subject"] == "Подтвердите почту для Chatwire"
    sock = await open_socket(strict, anna)
    chat = (await sock.ok("chat.create", title="t"))
    error = await sock.error("message.send", chat_id=chat["id"], content="hi")
    assert error["code"] == "email_unverified"
    assert (await sock.ok("message.list", chat_id=chat["id"]))["messages"] == []
    session = await (await strict.get("/api/v1/auth/me", headers=auth(anna))).json()
    assert session["email_verified"] is False
    resp = await strict.post("/api/v1/auth/verify-email", json={"token": token_in(mail, "verify")})
    assert resp.status == 200
    assert await resp.json() == {"verified": True, "email": "anna@example.com"}
    updated = await sock.event("account.updated")
    assert updated["user"]["email_verified"] is True
    assert (await sock.ok("message.send", chat_id=chat["id"], content="hi"))["assistant_message"]["id"]
    again = await strict.post("/api/v1/auth/verify-email", json={"token": token_in(mail, "verify")})
    assert again.status == 400 and (await again.json())["error"]["code"] == "bad_request"
    resend = await strict.post("/api/v1/auth/verify-email/resend", headers=auth(anna))
    assert (resend.status, await resend.json()) == (200, {"verified": True, "sent": False})


async def test_another_verification_mail_can_be_asked_for_a_few_times(mailbox, make_client):
    strict = await make_client(smtp_url=mailbox.url, require_email_verification=True,
                               rate_mail_per_email_per_hour=2, **MAIL)
    anna = await register(strict, "anna@example.com")
    await mailbox.next_mail("anna@example.com")
    answers = []
    for _ in range(3):
        resp = await strict.post("/api/v1/auth/verify-email/resend", headers=auth(anna),
                                 json={"lang": "en"})
        answers.append((resp.status, (await resp.json()).get("sent")))
    assert answers == [(202, True), (202, True), (429, None)]
    await strict.app[CONTEXT].services.mail_links.mailer.drain()
    mails = [m for m in mailbox.mails if m["To"] == "anna@example.com"]
    assert len(mails) == 3 and mails[-1]["Subject"] == "Confirm your email for Chatwire"
    # any of the links works (the newest here), and then the others are spent
    assert (await strict.post("/api/v1/auth/verify-email",
                              json={"token": token_in(mails[-1], "verify")})).status == 200
    assert (await strict.post("/api/v1/auth/verify-email",
                              json={"token": token_in(mails[0], "verify")})).status == 400
    assert (await strict.post("/api/v1/auth/verify-email/resend")).status == 401


async def test_without_the_requirement_nothing_is_held_back(mc, mailbox):
    anna = await register(mc, "anna@example.com")
    sock = await open_socket(mc, anna)
    chat = await sock.ok("chat.create", title="t")
    assert (await sock.ok("message.send", chat_id=chat["id"], content="hi"))["assistant_message"]["id"]
    await mc.app[CONTEXT].services.mail_links.mailer.drain()
    assert mailbox.mails == []  # no verification mail when it is not required


async def test_a_reset_link_proves_the_address_too(strict, mailbox):
    anna = await register(strict, "anna@example.com")
    await mailbox.next_mail("anna@example.com")
    await reset_token(strict, mailbox, "anna@example.com")
    token = token_in(mailbox.mails[-1], "reset")
    assert (await confirm(strict, token))[0] == 200
    resp = await strict.post("/api/v1/auth/login", json={"email": "anna@example.com",
                                                         "password": NEW_PASSWORD})
    assert (await resp.json())["user"]["email_verified"] is True
    assert anna["user"]["email_verified"] is False


# -- configuration ------------------------------------------------------------------------------

def test_mail_settings_are_checked_together(tmp_path):
    base = {"VAR_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="REQUIRE_EMAIL_VERIFICATION"):
        settings_from({**base, "REQUIRE_EMAIL_VERIFICATION": "true"})
    with pytest.raises(ConfigError, match="SMTP_URL"):
        settings_from({**base, "SMTP_URL": "http://mail.example.com", "MAIL_FROM": "a@b.c"})
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        settings_from({**base, "SMTP_URL": "smtp://mail.example.com:587"})
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        settings_from({**base, "PUBLIC_URL": "chat.example.com"})
    on = settings_from({**base, "SMTP_URL": "smtp://u:p@mail.example.com:587",
                        "MAIL_FROM": "a@b.c", "PUBLIC_URL": "https://chat.example.com/",
                        "REQUIRE_EMAIL_VERIFICATION": "true"})
    assert on.mail_enabled and on.require_email_verification
    assert on.link_base == "https://chat.example.com"
    off = settings_from({**base, "PORT": "9000"})
    assert not off.mail_enabled and off.link_base == "http://127.0.0.1:9000"
