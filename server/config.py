"""Settings from the environment (and an optional `.env`), with the embedded default's secrets.

The embedded default (SQLite) generates its secrets once and keeps them in `var/` with mode 0600,
so `make run` needs nothing. On PostgreSQL — a real deployment — secrets must be given, and weak
ones stop the server at startup rather than run it insecurely.
"""
from __future__ import annotations

import ipaddress
import os
import re
import secrets
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from dotenv import dotenv_values

from providers.factory import ProviderSettings
from storage.base import private_dir

MIN_SECRET_BYTES = 32


class ConfigError(Exception):
    """The configuration cannot run; the message says which variable and why."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    jwt_secret_key: str
    redis_url: str | None = None
    cors_origins: tuple[str, ...] = ()
    forwarded_allow_ips: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8080
    var_dir: Path = Path("var")
    upload_dir: Path = Path("var/uploads")
    max_upload_mb: int = 20
    import_max_mb: int = 50
    user_storage_mb: int = 200
    max_image_pixels: int = 25_000_000
    profile_analysis_model: str | None = None
    title_model: str | None = None  # a registry model that names chats; unset: the offline title
    profile_prompt_tokens: int = 400
    ws_max_frame_bytes: int = 64 * 1024
    ws_heartbeat_s: float = 30.0
    ws_auth_timeout_s: float = 5.0
    ws_send_queue: int = 1024
    ws_compress: bool = False
    ws_resume_grace_s: float = 1.0
    event_history: int = 1000
    event_history_bytes: int = 256 * 1024
    event_history_ttl_s: int = 3600
    presence_ttl_s: float = 30.0
    shutdown_grace_s: float = 25.0
    malloc_trim_s: float = 60.0
    metrics_token: str | None = None
    rate_send_per_minute: int = 30
    rate_uploads_per_hour: int = 100
    rate_auth_per_minute: int = 20
    rate_write_per_minute: int = 120
    rate_api_key_per_minute: int = 60
    upload_idle_timeout_s: float = 30.0
    header_timeout_s: float = 20.0
    parse_time_limit_s: float = 10.0
    parse_memory_mb: int = 512
    parse_workers: int = 2
    rate_analyze_per_hour: int = 30
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    argon2_time_cost: int | None = None
    argon2_memory_cost: int | None = None
    argon2_parallel: int = 1
    login_max_failures: int = 5
    login_window_s: int = 15 * 60
    cookie_secure: bool = False
    migrate_on_start: bool = True
    db_pool_size: int = 10
    log_level: str = "INFO"
    log_format: str = "json"
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    providers: ProviderSettings = field(default_factory=ProviderSettings)
    models_file: Path | None = None
    default_model: str = "echo"
    max_concurrent_generations: int = 3
    max_sockets_per_user: int = 20
    stream_coalesce_ms: int = 50
    stream_flush_s: float = 1.0
    signup_credits: int = 0
    # Spend caps (micro-credits per UTC day / month) given to each new account; None: no cap.
    default_daily_cap: int | None = None
    default_monthly_cap: int | None = None
    # Mail (password reset and email verification); no SMTP_URL: the server sends no mail.
    smtp_url: str | None = None
    mail_from: str = ""
    public_url: str = ""  # where links in mails point; empty: http://HOST:PORT
    require_email_verification: bool = False
    rate_mail_per_ip_per_hour: int = 10
    rate_mail_per_email_per_hour: int = 3
    # Billing (docs/PAYMENTS.md): a provider is on when its keys are set; no CREDIT_PACKS, no billing.
    credit_packs: Path | None = None
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    stripe_currencies: tuple[str, ...] = ("usd", "eur")
    yookassa_shop_id: str | None = None
    yookassa_secret_key: str | None = None
    yookassa_api_base: str | None = None
    rate_checkout_per_minute: int = 10
    # Uploads on S3-compatible object storage (docs/DEPLOY.md); no S3_BUCKET: on disk in UPLOAD_DIR.
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_prefix: str = ""
    aws_access_key_id: str | None = field(default=None, repr=False)
    aws_secret_access_key: str | None = field(default=None, repr=False)
    aws_session_token: str | None = field(default=None, repr=False)

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_url)

    @property
    def link_base(self) -> str:
        """The public origin links in mails start with (never the request's Host header, which
        a client chooses: a reset link pointing at an attacker's host would hand them the token)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))


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


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | None = ".env") -> Settings:
    env: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    env.update(os.environ if environ is None else environ)
    return settings_from(env)


def settings_from(env: Mapping[str, str]) -> Settings:
    """Settings from one mapping of variables (every read goes through `env`)."""
    var_dir = Path(env.get("VAR_DIR", "var"))
    database_url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'chatwire.db'}"
    postgres = database_url.startswith(("postgresql://", "postgres://"))
    if not postgres and not database_url.startswith("sqlite:///"):
        raise ConfigError("DATABASE_URL must start with sqlite:/// or postgresql://")
    port = _int(env, "PORT", 8080)
    assert port is not None
    return Settings(
        database_url=database_url,
        secret_key=_secret(env, "SECRET_KEY", var_dir, postgres),
        jwt_secret_key=_secret(env, "JWT_SECRET_KEY", var_dir, postgres),
        redis_url=env.get("REDIS_URL") or None,
        cors_origins=tuple(o.strip().rstrip("/") for o in env.get("CORS_ORIGINS", "").split(",")
                           if o.strip()),
        forwarded_allow_ips=_networks(env, "FORWARDED_ALLOW_IPS"),
        host=env.get("HOST", "127.0.0.1"),
        port=port,
        var_dir=var_dir,
        upload_dir=Path(env.get("UPLOAD_DIR") or var_dir / "uploads"),
        max_upload_mb=_int(env, "MAX_UPLOAD_MB", 20) or 20,
        import_max_mb=_int(env, "IMPORT_MAX_MB", 50) or 50,
        user_storage_mb=_int(env, "USER_STORAGE_MB", 200) or 200,
        max_image_pixels=_int(env, "MAX_IMAGE_PIXELS", 25_000_000) or 25_000_000,
        profile_analysis_model=env.get("PROFILE_ANALYSIS_MODEL") or None,
        title_model=env.get("TITLE_MODEL") or None,
        profile_prompt_tokens=_int(env, "PROFILE_PROMPT_TOKENS", 400) or 0,
        ws_max_frame_bytes=_int(env, "WS_MAX_FRAME_BYTES", 64 * 1024) or 64 * 1024,
        ws_heartbeat_s=float(env.get("WS_HEARTBEAT_S", "30")),
        ws_compress=_bool(env.get("WS_COMPRESS"), False),
        ws_resume_grace_s=_float(env, "WS_RESUME_GRACE_S", 1.0),
        event_history=_int(env, "EVENT_HISTORY", 1000) or 1000,
        event_history_bytes=_int(env, "EVENT_HISTORY_BYTES", 256 * 1024) or 256 * 1024,
        event_history_ttl_s=_int(env, "EVENT_HISTORY_TTL_S", 3600) or 3600,
        presence_ttl_s=_float(env, "PRESENCE_TTL_S", 30.0),
        shutdown_grace_s=_float(env, "SHUTDOWN_GRACE_S", 25.0),
        malloc_trim_s=_float(env, "MALLOC_TRIM_S", 60.0),
        metrics_token=env.get("METRICS_TOKEN") or None,
        rate_send_per_minute=_int(env, "RATE_SEND_PER_MINUTE", 30) or 0,
        rate_uploads_per_hour=_int(env, "RATE_UPLOADS_PER_HOUR", 100) or 0,
        rate_auth_per_minute=_int(env, "RATE_AUTH_PER_MINUTE", 20) or 0,
        rate_write_per_minute=_int(env, "RATE_WRITE_PER_MINUTE", 120) or 0,
        rate_api_key_per_minute=_int(env, "RATE_API_KEY_PER_MINUTE", 60) or 0,
        upload_idle_timeout_s=_float(env, "UPLOAD_IDLE_TIMEOUT_S", 30.0),
        header_timeout_s=_float(env, "HEADER_TIMEOUT_S", 20.0),
        parse_time_limit_s=_float(env, "PARSE_TIME_LIMIT_S", 10.0),
        parse_memory_mb=_int(env, "PARSE_MEMORY_MB", 512) or 512,
        parse_workers=_int(env, "PARSE_WORKERS", 2) or 2,
        rate_analyze_per_hour=_int(env, "RATE_ANALYZE_PER_HOUR", 30) or 0,
        access_token_ttl_s=_int(env, "ACCESS_TOKEN_TTL_S", 15 * 60) or 15 * 60,
        refresh_token_ttl_s=_int(env, "REFRESH_TOKEN_TTL_S", 30 * 24 * 3600) or 30 * 24 * 3600,
        argon2_time_cost=_int(env, "ARGON2_TIME_COST", None),
        argon2_memory_cost=_int(env, "ARGON2_MEMORY_COST", None),
        argon2_parallel=_int(env, "ARGON2_PARALLEL", 1) or 1,
        login_max_failures=_int(env, "LOGIN_MAX_FAILURES", 5) or 5,
        cookie_secure=_bool(env.get("COOKIE_SECURE"), False),
        db_pool_size=_int(env, "DB_POOL_SIZE", 10) or 10,
        log_level=_choice(env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        log_format=_choice(env, "LOG_FORMAT", "json", ("json", "text")),
        instance_id=env.get("INSTANCE_ID") or f"{socket.gethostname()}:{port}",
        providers=_provider_settings(env),
        models_file=Path(env["MODELS_FILE"]) if env.get("MODELS_FILE") else None,
        default_model=env.get("DEFAULT_MODEL") or "echo",
        max_concurrent_generations=_int(env, "MAX_CONCURRENT_GENERATIONS", 3) or 3,
        max_sockets_per_user=_int(env, "MAX_SOCKETS_PER_USER", 20) or 20,
        stream_coalesce_ms=_int(env, "STREAM_COALESCE_MS", 50) or 0,
        stream_flush_s=_float(env, "STREAM_FLUSH_S", 1.0),
        # The embedded default is for trying the product: 10 credits to start. A deployment
        # (PostgreSQL) grants nothing unless it says so.
        signup_credits=_int(env, "SIGNUP_CREDITS", 0 if postgres else 10_000_000) or 0,
        default_daily_cap=_cap(env, "DEFAULT_DAILY_CAP"),
        default_monthly_cap=_cap(env, "DEFAULT_MONTHLY_CAP"),
        **_mail(env),
        **_billing(env),
        **_s3(env),
    )
