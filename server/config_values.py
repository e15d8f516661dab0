"""The pieces `server.config` reads variables with: one parser per kind of value, and the sections
(mail, billing, object storage, workers) that check their variables together."""
from __future__ import annotations

import ipaddress
import os
import re
import secrets
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from providers.factory import ProviderSettings
from storage.base import private_dir

MIN_SECRET_BYTES = 32


class ConfigError(Exception):
    """The configuration cannot run; the message says which variable and why."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _provider_settings(env: Mapping[str, str]) -> ProviderSettings:
    return ProviderSettings(
        openai_api_key=env.get("OPENAI_API_KEY") or None,
        openai_base_url=env.get("OPENAI_BASE_URL") or None,
        anthropic_api_key=env.get("ANTHROPIC_API_KEY") or None,
        anthropic_base_url=env.get("ANTHROPIC_BASE_URL") or None,
        google_api_key=env.get("GOOGLE_API_KEY") or env.get("GEMINI_API_KEY") or None,
        google_base_url=env.get("GOOGLE_BASE_URL") or None,
        yandex_api_key=env.get("YANDEX_API_KEY") or None,
        yandex_folder_id=env.get("YANDEX_FOLDER_ID") or None,
        yandex_base_url=env.get("YANDEX_BASE_URL") or None,
        echo_tokens_per_second=_float(env, "ECHO_TOKENS_PER_SECOND", 30.0),
        connect_timeout_s=_float(env, "PROVIDER_CONNECT_TIMEOUT_S", 10.0),
        first_token_timeout_s=_float(env, "PROVIDER_FIRST_TOKEN_TIMEOUT_S", 60.0),
        idle_timeout_s=_float(env, "PROVIDER_IDLE_TIMEOUT_S", 60.0),
        max_retries=_int(env, "PROVIDER_MAX_RETRIES", 2) or 0,
    )


def _number(env: Mapping[str, str], name: str, default: Any, kind: type = int) -> Any:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise ConfigError(f"{name} must be {noun}, got {raw!r}") from None


def _int(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    return _number(env, name, default, int)


def _cap(env: Mapping[str, str], name: str) -> int | None:
    """A spend cap in micro-credits; unset or empty: no cap."""
    value = _int(env, name, None)
    if value is not None and value < 0:
        raise ConfigError(f"{name} must be 0 or more micro-credits (unset: no cap)")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, float)


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())
    for item in items:
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not an IP address or network (or *)") from None
    return items


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip()
    value = value.upper() if allowed[0].isupper() else value.lower()
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def cpu_cores() -> int:
    """The cores this process may run on (its affinity mask, as a container's cpuset sets it)."""
    getaffinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere, every core
    return len(getaffinity(0)) if getaffinity else os.cpu_count() or 1


def parse_workers(raw: str | None, name: str = "WORKERS", cores: int | None = None) -> int:
    """Server processes: a whole number from 1 to 4 × the cores, or `auto` (one per core)."""
    cores, text = cores or cpu_cores(), (raw or "1").strip().lower()
    try:
        value = cores if text == "auto" else int(text)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of server processes (1 or more) or "
                          f"auto (one per CPU core), got {raw!r}") from None
    if not 1 <= value <= 4 * cores:
        raise ConfigError(f"{name} must be at least 1 (one server process), got {value}" if value < 1
                          else f"{name}{' ' if name[0] == '-' else '='}{value} is more than 4 x the "
                          f"{cores} CPU core(s) here (at most {4 * cores}; auto: one per core)")
    return value


def _metrics_port_base(env: Mapping[str, str]) -> int | None:
    base = _int(env, "METRICS_PORT_BASE", None)
    if base is not None and not 1 <= base <= 65535:
        raise ConfigError(f"METRICS_PORT_BASE must be a TCP port (1..65535), got {base}")
    return base


def _kept_secret(var_dir: Path, name: str) -> str:
    """A secret generated on first use and kept in var/<name> (mode 0600)."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    private_dir(var_dir)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def _secret(env: Mapping[str, str], name: str, var_dir: Path, postgres: bool) -> str:
    value = env.get(name, "")
    if not value:
        if postgres:
            raise ConfigError(
                f"{name} is required when DATABASE_URL is PostgreSQL: set it to a random string of "
                f"at least {MIN_SECRET_BYTES} bytes (e.g. `python -c 'import secrets; "
                f"print(secrets.token_urlsafe(48))'`)"
            )
        return _kept_secret(var_dir, name.lower())
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{name} is too weak: it must be at least {MIN_SECRET_BYTES} bytes")
    return value


def _mail(env: Mapping[str, str]) -> dict[str, Any]:
    """SMTP_URL, MAIL_FROM, PUBLIC_URL and REQUIRE_EMAIL_VERIFICATION, checked together: a
    verification nobody can receive would lock every new account out of sending."""
    smtp_url = env.get("SMTP_URL") or None
    if smtp_url is not None:
        parsed = urlsplit(smtp_url)
        if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
            raise ConfigError("SMTP_URL must look like smtp://user:pass@host:587 (STARTTLS) or "
                              "smtps://user:pass@host:465 (TLS)")
        if not env.get("MAIL_FROM"):
            raise ConfigError("MAIL_FROM is required with SMTP_URL (e.g. Chatwire <noreply@example.com>)")
    public_url = (env.get("PUBLIC_URL") or "").strip().rstrip("/")
    if public_url and urlsplit(public_url).scheme not in ("http", "https"):
        raise ConfigError("PUBLIC_URL must be an http:// or https:// address, e.g. https://chat.example.com")
    require = _bool(env.get("REQUIRE_EMAIL_VERIFICATION"), False)
    if require and smtp_url is None:
        raise ConfigError("REQUIRE_EMAIL_VERIFICATION=true needs SMTP_URL: nobody could receive the link")
    return dict(smtp_url=smtp_url, mail_from=env.get("MAIL_FROM", ""), public_url=public_url,
                require_email_verification=require,
                rate_mail_per_ip_per_hour=_int(env, "RATE_MAIL_PER_IP_PER_HOUR", 10) or 0,
                rate_mail_per_email_per_hour=_int(env, "RATE_MAIL_PER_EMAIL_PER_HOUR", 3) or 0)


def _billing(env: Mapping[str, str]) -> dict[str, Any]:
    """The payment providers' keys, checked together: half a provider's keys refuse to start
    (a Stripe without its webhook secret would take money it could never verify)."""
    stripe_key = env.get("STRIPE_SECRET_KEY") or None
    webhook = env.get("STRIPE_WEBHOOK_SECRET") or None
    if bool(stripe_key) != bool(webhook):
        raise ConfigError("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET go together: set both "
                          "(the webhook secret is the endpoint's whsec_... signing secret) or neither")
    shop, secret = env.get("YOOKASSA_SHOP_ID") or None, env.get("YOOKASSA_SECRET_KEY") or None
    if bool(shop) != bool(secret):
        raise ConfigError("YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY go together: set both or neither")
    for name in ("STRIPE_API_BASE", "YOOKASSA_API_BASE"):
        if env.get(name) and urlsplit(env[name]).scheme not in ("http", "https"):
            raise ConfigError(f"{name} must be an http:// or https:// address")
    packs = env.get("CREDIT_PACKS") or None
    if packs and not Path(packs).is_file():
        raise ConfigError(f"CREDIT_PACKS={packs} is not a file (a JSON list of packs)")
    currencies = tuple(c.strip().lower() for c in env.get("STRIPE_CURRENCIES", "usd,eur").split(",")
                       if c.strip())
    return dict(credit_packs=Path(packs) if packs else None, stripe_secret_key=stripe_key,
                stripe_webhook_secret=webhook, stripe_api_base=env.get("STRIPE_API_BASE") or None,
                stripe_currencies=currencies, yookassa_shop_id=shop, yookassa_secret_key=secret,
                yookassa_api_base=env.get("YOOKASSA_API_BASE") or None,
                rate_checkout_per_minute=_int(env, "RATE_CHECKOUT_PER_MINUTE", 10) or 0)


def _s3(env: Mapping[str, str]) -> dict[str, Any]:
    """S3_BUCKET and its companions, checked together; the AWS_* keys (else botocore's chain)."""
    bucket, endpoint, region, prefix = ((env.get(name) or "").strip().strip("/") or None for name
                                        in ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_PREFIX"))
    if bucket is None and (endpoint or region or prefix):
        raise ConfigError("S3_ENDPOINT_URL, S3_REGION and S3_PREFIX need S3_BUCKET (the bucket "
                          "uploads go to); unset them to keep uploads in UPLOAD_DIR")
    if bucket is not None and not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", bucket):
        raise ConfigError(f"S3_BUCKET={bucket!r} is not a bucket name (3-63 lower-case letters, "
                          "digits, dots and hyphens)")
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ConfigError("S3_ENDPOINT_URL must be an http:// or https:// address, e.g. "
                          "https://<account>.r2.cloudflarestorage.com")
    key, secret = env.get("AWS_ACCESS_KEY_ID") or None, env.get("AWS_SECRET_ACCESS_KEY") or None
    if bool(key) != bool(secret):
        raise ConfigError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both, or "
                          "neither to use botocore's chain (~/.aws, an instance role)")
    return dict(s3_bucket=bucket, s3_endpoint_url=endpoint, s3_region=region,
                s3_prefix=f"{prefix}/" if prefix else "", aws_access_key_id=key,
                aws_secret_access_key=secret, aws_session_token=env.get("AWS_SESSION_TOKEN") or None)
