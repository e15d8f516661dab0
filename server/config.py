"""Settings from the environment (and an optional `.env`), with the embedded default's secrets.

The embedded default (SQLite) generates its secrets once and keeps them in `var/` with mode 0600,
so `make run` needs nothing. On PostgreSQL — a real deployment — secrets must be given, and weak
ones stop the server at startup rather than run it insecurely.
"""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from dotenv import dotenv_values

from providers.factory import ProviderSettings

from .config_values import (MIN_SECRET_BYTES, ConfigError, _billing, _bool, _cap, _choice,  # noqa: F401
                            _float, _int, _mail, _metrics_port_base, _networks, _provider_settings,
                            _s3, _secret, cpu_cores, parse_workers)


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
    event_loop: str = "uvloop"  # uvloop when installed; "asyncio" opts out
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
    # `run.py serve --workers N`: N processes on one port; `worker`: this one's number (0: alone).
    workers: int = 1
    worker: int = 0
    metrics_port_base: int | None = None  # worker k also answers /metrics on base + k - 1
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
        event_loop=_choice(env, "EVENT_LOOP", "uvloop", ("uvloop", "asyncio")),
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
        workers=parse_workers(env.get("WORKERS")),
        metrics_port_base=_metrics_port_base(env),
        **_mail(env),
        **_billing(env),
        **_s3(env),
    )
