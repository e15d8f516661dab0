#!/usr/bin/env python3
"""Chatwire's command line: serve (default), migrate, user create / set-password / list /
set-role / disable / enable, credits add, ledger check, payments reconcile."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable

from aiohttp import web

from protocol.errors import ChatwireError
from server.config import ConfigError, Settings, load_settings
from server.logs import configure as configure_logs, label_worker

if TYPE_CHECKING:
    from server.services import Services


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    """One process (the default), or with --workers N a supervisor of N (server/supervisor.py)."""
    from server import supervisor

    try:
        settings = supervisor.for_serve(settings, getattr(args, "workers", None))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    worker = getattr(args, "worker", None)
    if worker:
        supervisor.die_with_parent(args.supervisor)
        label_worker(worker)
        settings = supervisor.as_worker(settings, worker)
        ready = lambda: supervisor.report_ready(args.ready_fd, worker)  # noqa: E731
        return _until_signalled(settings, ready)
    if settings.workers > 1:
        return supervisor.Supervisor(settings, [sys.executable, str(Path(__file__).resolve()),
                                                "serve"]).run()
    return _until_signalled(settings)


def _until_signalled(settings: Settings, ready: Callable[[], None] | None = None) -> int:
    """Serve; a setting found wrong only when the services start (a TITLE_MODEL that names no
    model, an S3 bucket that is not there) ends it with the same one line as any other."""
    from server import event_loop
    from server.web import create_app

    try:
        event_loop.run(_serve_until_signalled(create_app(settings), settings, ready),
                       settings.event_loop)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


async def _serve_until_signalled(app: web.Application, settings: Settings,
                                 ready: Callable[[], None] | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then drain: see `server.web.app.drain`. As one of several
    workers, bind the port with SO_REUSEPORT and call `ready` once listening."""
    import signal

    from server.event_loop import running
    from server.supervisor import metrics_port
    from server.web.app import drain

    from server.web.access import AccessLogger
    from server.web.health import metrics_app

    # aiohttp's handler closes a connection that is still reading a request's headers (or idle
    # between requests) once keepalive_timeout passes; its own default is an hour, which let a
    # slow-header client hold a connection that long.
    runner = web.AppRunner(app, handle_signals=False, access_log_class=AccessLogger,
                           keepalive_timeout=settings.header_timeout_s)
    await runner.setup()
    metrics_runner = None
    try:
        await web.TCPSite(runner, settings.host, settings.port,
                          reuse_port=True if settings.workers > 1 else None).start()
        if (port := metrics_port(settings)) is not None:
            metrics_runner = web.AppRunner(metrics_app(app), handle_signals=False, access_log=None)
            await metrics_runner.setup()
            await web.TCPSite(metrics_runner, settings.host, port).start()
        if ready is None:
            print(f"Chatwire serving on http://{settings.host}:{settings.port} ({running()})",
                  flush=True)
        else:
            logging.getLogger("chatwire").info("worker %d of %d serving on %s:%d", settings.worker,
                                               settings.workers, settings.host, settings.port)
            ready()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        logging.getLogger("chatwire").info("shutting down: draining for up to %.0f s",
                                           settings.shutdown_grace_s)
        await drain(app)
    finally:
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        await runner.cleanup()


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from storage.migrate import apply_migrations

    applied = apply_migrations(settings.database_url)
    print(f"applied: {', '.join(applied)}" if applied else "the schema is up to date")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise SystemExit("passwords do not match")
    return first


def _user_create(settings: Settings, args: argparse.Namespace) -> int:
    password = _read_password(args)

    async def work(services: Services) -> int:
        user = await services.accounts.create_user(args.email, password, args.display_name,
                                                   role="admin" if args.admin else "user")
        print(f"created {user['role']} {user['email']} (id {user['id']})")
        return 0

    return _with_services(settings, work)


def _user_set_password(settings: Settings, args: argparse.Namespace) -> int:
    password = _read_password(args)

    async def work(services: Services) -> int:
        user = await services.accounts.set_password(args.email, password)
        print(f"set a new password for {user['email']}; their sessions have ended")
        return 0

    # With Redis the running instances hear of it, and close the user's sockets at once.
    return _with_services(settings, work, realtime=bool(settings.redis_url))


async def _by_email(services: Services, email: str) -> dict:
    from protocol.errors import NotFound
    from storage import users

    user = await users.get_by_email(services.db, email.strip().casefold())
    if user is None:
        raise NotFound(f"no user {email}")
    return user


def _user_list(settings: Settings, args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        page = await services.admin.users(q=args.q, sort=args.sort, limit=args.limit)
        for u in page["users"]:
            status = "disabled" if u["disabled"] else "active"
            print(f"{u['id']}  {u['email']:<32} {u['role']:<5} {status:<8} "
                  f"balance {u['balance']}  spend(30d) {u['spend']}  "
                  f"last active {u['last_active_at'] or '-'}")
        print(f"{len(page['users'])} users" + (" (more: narrow with --q)" if page["next_cursor"]
                                                else ""))
        return 0

    return _with_services(settings, work)


def _user_change(settings: Settings, email: str, changes: dict, done: str) -> int:
    """An admin change from the command line: audited with actor "cli"; with Redis, a disabled
    user's open sockets close (4403) on every instance."""
    from server.domain.audit import CLI

    async def work(services: Services) -> int:
        user = await _by_email(services, email)
        await services.admin.update(CLI, user["id"], changes)
        print(f"{user['email']}: {done}")
        return 0

    return _with_services(settings, work, realtime=bool(settings.redis_url))


def _user_set_role(settings: Settings, args: argparse.Namespace) -> int:
    return _user_change(settings, args.email, {"role": args.role}, f"role is now {args.role}")


def _user_disable(settings: Settings, args: argparse.Namespace) -> int:
    return _user_change(settings, args.email, {"disabled": True},
                        "disabled (log-in refused; nothing of theirs removed)")


def _user_enable(settings: Settings, args: argparse.Namespace) -> int:
    return _user_change(settings, args.email, {"disabled": False}, "enabled")


def _micro_credits(text: str) -> int:
    """'10' or '2.5' credits to micro-credits, exactly (no floats)."""
    try:
        value = Decimal(text) * 1_000_000
    except InvalidOperation:
        raise SystemExit(f"AMOUNT must be a number of credits, got {text!r}") from None
    if value != value.to_integral_value():
        raise SystemExit("AMOUNT has more than 6 decimal places (the smallest unit is 0.000001)")
    return int(value)


def _with_services(settings: Settings, work: Callable[[Services], Awaitable[int]], *,
                   realtime: bool = False) -> int:
    """Run `work` with the server's own services, on a migrated database.

    Without `realtime`, events stay in this process (there are no sockets here to tell); with
    it (Redis set), they go through the broker to every instance's sockets.
    """
    from server import services

    async def run() -> int:
        built = await services.build(settings, migrate=True, realtime=realtime, pool_size=2)
        try:
            return await work(built)
        finally:
            await built.close()

    try:
        return asyncio.run(run())
    except ChatwireError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


def _credits_add(settings: Settings, args: argparse.Namespace) -> int:
    from storage import users

    amount = _micro_credits(args.amount)

    from server.domain.audit import CLI

    async def work(services: Services) -> int:
        user = await users.get_by_email(services.db, args.email.strip().casefold())
        if user is None:
            print(f"error: no user {args.email}", file=sys.stderr)
            return 1
        row, account, replayed = await services.admin.deposit(
            CLI, user["id"], amount, kind="adjustment" if args.adjustment else "deposit",
            note=args.note or "", idempotency_key=args.idempotency_key)
        verb = "already recorded" if replayed else "recorded"
        print(f"{verb}: {row['kind']} of {row['amount']} micro-credits for {user['email']}; "
              f"balance {account['balance']} (available {account['available']})")
        return 0

    # With Redis the deposit is published through the broker, and reaches the user's open tabs
    # (`balance.updated`) on every instance; without it, it shows on their next `balance.get`.
    return _with_services(settings, work, realtime=bool(settings.redis_url))


def _ledger_check(settings: Settings, args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        problems = await services.ledger.check()
        for p in problems:
            print(f"MISMATCH {p['email']} ({p['id']}): balance {p['balance']} vs ledger "
                  f"{p['ledger_sum']}; reserved {p['reserved']} vs holds {p['holds_sum']}")
        total = await services.db.fetchval("SELECT COUNT(*) AS n FROM users")
        print(f"{total} users checked, {len(problems)} mismatched")
        return 1 if problems else 0

    return _with_services(settings, work)


def _payments_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    """Settle orders pending longer than --older-than minutes by asking their provider, exactly
    as their webhook would have (for webhooks that never came); safe while webhooks arrive."""
    if args.older_than < 0:
        raise SystemExit("--older-than must be 0 or more minutes")

    async def work(services: Services) -> int:
        billing = services.billing
        if not billing.enabled:
            print("billing is not enabled (no CREDIT_PACKS, or no provider's keys)")
            return 0
        settled = await billing.reconcile(args.older_than)
        for order_id, outcome in settled:
            print(f"order {order_id}: {outcome}")
        credited = sum(1 for _, outcome in settled if outcome == "credited")
        print(f"{len(settled)} pending orders older than {args.older_than} min asked about, "
              f"{credited} credited")
        for order in await billing.flagged():
            print(f"FLAGGED order {order['id']} ({order['provider']}, user {order['user_id']}): "
                  f"{order['flag_reason']}")
        return 0

    # With Redis the running instances hear of it, and tell the user's sockets at once.
    return _with_services(settings, work, realtime=bool(settings.redis_url))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py", description="Chatwire: real-time AI chat server.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="serve HTTP and WebSocket (the default)")
    serve.add_argument("--workers", default=None, metavar="N",
                       help="server processes on the one port (SO_REUSEPORT), each a full instance "
                            "sharing the database and Redis: a number, or auto (one per CPU core); "
                            "more than 1 needs REDIS_URL (default: WORKERS, or 1)")
    # How the supervisor starts each worker (server/supervisor.py); not for people.
    serve.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    serve.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    serve.add_argument("--supervisor", type=int, default=None, help=argparse.SUPPRESS)
    serve.set_defaults(func=_serve)
    migrate = sub.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(func=_migrate)
    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    create = user_sub.add_parser("create", help="create a user (password from a prompt or stdin)")
    create.add_argument("email")
    create.add_argument("--admin", action="store_true", help="give the user the admin role")
    create.add_argument("--display-name", default=None)
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input")
    create.set_defaults(func=_user_create)
    reset = user_sub.add_parser("set-password", help="set a user's password (without mail): "
                                "from a prompt or stdin; every session of theirs ends")
    reset.add_argument("email")
    reset.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of standard input")
    reset.set_defaults(func=_user_set_password)
    listing = user_sub.add_parser("list", help="list users (newest first, or --sort)")
    listing.add_argument("--q", default=None, help="part of an email or name")
    listing.add_argument("--sort", default="created",
                         choices=("created", "last_active", "balance", "spend"))
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(func=_user_list)
    role = user_sub.add_parser("set-role", help="make a user an admin, or a plain user again")
    role.add_argument("email")
    role.add_argument("role", choices=("user", "admin"))
    role.set_defaults(func=_user_set_role)
    disable = user_sub.add_parser("disable", help="disable an account (log-in refused, sockets "
                                  "closed; nothing removed)")
    disable.add_argument("email")
    disable.set_defaults(func=_user_disable)
    enable = user_sub.add_parser("enable", help="enable a disabled account again")
    enable.add_argument("email")
    enable.set_defaults(func=_user_enable)

    credits = sub.add_parser("credits", help="manage credits")
    credits_sub = credits.add_subparsers(dest="credits_command", metavar="ACTION", required=True)
    add = credits_sub.add_parser("add", help="deposit credits to a user (AMOUNT in credits, e.g. 10 or 2.5)")
    add.add_argument("email")
    add.add_argument("amount")
    add.add_argument("--note", default="")
    add.add_argument("--idempotency-key", default=None,
                     help="a retry with the same key and amount records nothing new")
    add.add_argument("--adjustment", action="store_true",
                     help="a correction (AMOUNT may be negative) instead of a deposit")
    add.set_defaults(func=_credits_add)

    ledger = sub.add_parser("ledger", help="audit the ledger")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    check = ledger_sub.add_parser("check", help="verify balance = sum of ledger for every user")
    check.set_defaults(func=_ledger_check)

    payments = sub.add_parser("payments", help="credit packs bought through payment providers")
    payments_sub = payments.add_subparsers(dest="payments_command", metavar="ACTION", required=True)
    reconcile = payments_sub.add_parser(
        "reconcile", help="ask the providers about orders still pending and settle them as their "
        "webhook would (safe while webhooks arrive)")
    reconcile.add_argument("--older-than", type=int, default=15, metavar="MINUTES",
                           help="only orders pending longer than this (default 15)")
    reconcile.set_defaults(func=_payments_reconcile)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logs(settings.log_level, settings.log_format)
    func = getattr(args, "func", _serve)
    return func(settings, args)


if __name__ == "__main__":
    sys.exit(main())
