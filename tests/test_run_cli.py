"""The command line a person uses: help, migrate, user create."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(args, tmp_path, stdin="", **extra_env):
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var"), "ARGON2_MEMORY_COST": "1024",
           "ARGON2_TIME_COST": "1", **extra_env}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=tmp_path, env=env,
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_help_lists_the_subcommands(tmp_path):
    out = run(["--help"], tmp_path).stdout
    for command in ("serve", "migrate", "user"):
        assert command in out
    assert "create" in run(["user", "--help"], tmp_path).stdout


def test_migrate_then_create_an_admin_from_stdin(tmp_path):
    first = run(["migrate"], tmp_path)
    assert first.returncode == 0 and "0001_initial" in first.stdout
    assert "up to date" in run(["migrate"], tmp_path).stdout
    created = run(["user", "create", "root@example.com", "--admin", "--password-stdin"], tmp_path,
                  stdin="a long admin passphrase\n")
    assert created.returncode == 0, created.stderr
    assert "created admin root@example.com" in created.stdout
    again = run(["user", "create", "ROOT@example.com", "--password-stdin"], tmp_path,
                stdin="a long admin passphrase\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    weak = run(["user", "create", "weak@example.com", "--password-stdin"], tmp_path, stdin="123\n")
    assert weak.returncode == 1 and "password" in weak.stderr


def test_a_bad_configuration_exits_with_a_message(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=postgresql://x@127.0.0.1:1/db\n")
    result = run(["migrate"], tmp_path)
    assert result.returncode == 2 and "SECRET_KEY is required" in result.stderr


def test_a_setting_found_wrong_at_start_up_exits_with_one_line_not_a_traceback(tmp_path):
    from tests.helpers import free_port
    result = run(["serve"], tmp_path, TITLE_MODEL="no-such-model", PORT=str(free_port()))
    assert result.returncode == 2, result.stderr
    assert "configuration error: TITLE_MODEL=no-such-model is not a configured model" in result.stderr
    assert "Traceback" not in result.stderr


def test_credits_add_is_idempotent_and_ledger_check_catches_tampering(tmp_path):
    import sqlite3
    assert run(["user", "create", "ann@example.com", "--password-stdin"], tmp_path,
               stdin="a long passphrase here\n").returncode == 0
    first = run(["credits", "add", "ANN@example.com", "2.5", "--note", "invoice 7",
                 "--idempotency-key", "inv-7"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "deposit of 2500000 micro-credits" in first.stdout
    again = run(["credits", "add", "ann@example.com", "2.5", "--note", "invoice 7",
                 "--idempotency-key", "inv-7"], tmp_path)
    assert again.returncode == 0 and "already recorded" in again.stdout
    clash = run(["credits", "add", "ann@example.com", "3", "--idempotency-key", "inv-7"], tmp_path)
    assert clash.returncode == 1 and "different request" in clash.stderr
    assert run(["credits", "add", "ann@example.com", "1.0000001"], tmp_path).returncode != 0
    assert run(["credits", "add", "nobody@example.com", "1"], tmp_path).returncode == 1

    check = run(["ledger", "check"], tmp_path)
    assert check.returncode == 0 and "0 mismatched" in check.stdout
    with sqlite3.connect(tmp_path / "var" / "chatwire.db") as db:
        db.execute("UPDATE users SET balance = balance + 1")
    check = run(["ledger", "check"], tmp_path)
    assert check.returncode == 1 and "MISMATCH ann@example.com" in check.stdout


def test_user_set_password_without_mail(tmp_path):
    import sqlite3

    from passlib.hash import argon2

    assert run(["user", "create", "ann@example.com", "--password-stdin"], tmp_path,
               stdin="a long passphrase here\n").returncode == 0
    missing = run(["user", "set-password", "nobody@example.com", "--password-stdin"], tmp_path,
                  stdin="another long passphrase\n")
    assert missing.returncode == 1 and "no account" in missing.stderr
    weak = run(["user", "set-password", "ann@example.com", "--password-stdin"], tmp_path,
               stdin="123\n")
    assert weak.returncode == 1 and "password" in weak.stderr
    done = run(["user", "set-password", "ANN@example.com", "--password-stdin"], tmp_path,
               stdin="another long passphrase\n")
    assert done.returncode == 0 and "sessions have ended" in done.stdout, done.stderr
    database = next((tmp_path / "var").glob("*.db"))
    with sqlite3.connect(database) as db:
        (stored,) = db.execute("SELECT password_hash FROM users").fetchone()
    assert argon2.verify("another long passphrase", stored)


async def test_payments_reconcile_credits_a_paid_order_whose_webhook_was_lost(
        stripe_billed, stripe_api, packs_file, settings, connect, tmp_path):
    import asyncio

    from tests.billing import STARTER, ledger_rows
    from tests.fakes.stripe import SECRET_KEY, WEBHOOK_SECRET
    from tests.helpers import register
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    started = await sock.ok("billing.checkout", pack_id="starter", provider="stripe")
    stripe_api.pay(started["url"].rsplit("/", 1)[1])  # paid at Stripe; the webhook never came
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": "s" * 48,
           "JWT_SECRET_KEY": "j" * 48, "VAR_DIR": str(tmp_path / "var"),
           "CREDIT_PACKS": str(packs_file), "STRIPE_SECRET_KEY": SECRET_KEY,
           "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": stripe_api.url}
    env.pop("REDIS_URL", None)

    async def reconcile(*extra):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "run.py"), "payments", "reconcile", *extra, cwd=tmp_path,
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        return out.decode()

    assert "0 pending orders older than 15 min" in await reconcile()
    out = await reconcile("--older-than", "0")
    assert f"order {started['order_id']}: credited" in out and "1 credited" in out
    assert "0 credited" in await reconcile("--older-than", "0")  # nothing twice
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == [("deposit", STARTER)]
    [order] = (await sock.ok("billing.orders"))["orders"]
    assert order["status"] == "paid"


def test_user_list_set_role_disable_enable(tmp_path):
    for email in ("root@example.com", "ann@example.com"):
        assert run(["user", "create", email, "--password-stdin"], tmp_path,
                   stdin="a long passphrase here\n").returncode == 0
    promoted = run(["user", "set-role", "root@example.com", "admin"], tmp_path)
    assert promoted.returncode == 0 and "role is now admin" in promoted.stdout
    last = run(["user", "set-role", "root@example.com", "user"], tmp_path)
    assert last.returncode == 1 and "last admin" in last.stderr
    assert run(["user", "disable", "ann@example.com"], tmp_path).returncode == 0
    listed = run(["user", "list", "--q", "ann"], tmp_path)
    assert "ann@example.com" in listed.stdout and "disabled" in listed.stdout
    assert "root@example.com" not in listed.stdout and "1 users" in listed.stdout
    assert run(["user", "enable", "ann@example.com"], tmp_path).returncode == 0
    assert "active" in run(["user", "list", "--q", "ann"], tmp_path).stdout
    assert run(["user", "disable", "nobody@example.com"], tmp_path).returncode == 1
    assert run(["credits", "add", "ann@example.com", "1", "--adjustment"],
               tmp_path).returncode == 1  # an adjustment needs a note


async def test_credits_add_reaches_open_tabs_through_redis(make_client, database_url, redis_url,
                                                           tmp_path):
    import asyncio

    from tests.helpers import open_socket, register

    server = await make_client(redis_url=redis_url)
    ann = await register(server, "ann@example.com")
    tab = await open_socket(server, ann)
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "s" * 48,
           "JWT_SECRET_KEY": "j" * 48}
    added = await asyncio.to_thread(run_with, ["credits", "add", "ann@example.com", "2"],
                                    tmp_path, env)
    assert added.returncode == 0, added.stderr
    event = await tab.event("balance.updated")
    assert event["balance"] == ann["user"]["balance"] + 2_000_000


def run_with(args, tmp_path, extra):
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var"), **extra}
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
