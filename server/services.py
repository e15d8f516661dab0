"""The one assembly of Chatwire's services, for the server and the command line alike.

`build(settings)` opens storage, connects the broker and wires every domain service to the
collaborators it needs, each passed in at construction and in an order with no cycle: the stream
registry before the broker (which delivers other instances' stop requests to it), the broker
before the services that publish. `Services.close` undoes it. The transport (`server/web`) adds
only what is its own: routes, sockets, draining.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from providers import registry
from providers.base import Provider
from providers.factory import build_providers
from providers.registry import Model
from storage import Database, open_database
from storage.migrate import apply_migrations

from .broker import Broker, make_broker
from .config import ConfigError, Settings
from .domain.accounts import Accounts, AuthSettings
from .domain.admin import Admin
from .domain.usage import UsageReport
from .domain.api_keys import ApiKeys
from .domain.completions import Completions
from .domain.analyzer import Analyzer
from .domain.catalogue import Catalogue
from .domain.billing import Billing, Pack, load_packs
from .domain.billing.base import PaymentProvider
from .domain.billing.pack_catalogue import PackCatalogue
from .domain.billing.packs import PacksError
from .domain.billing.review import OrderReview
from .domain.chats import Chats
from .domain.blobs import BlobStore, LocalBlobs
from .domain.files import Files, FileSettings
from .domain.generation import GenerationSettings, Generations
from .domain.account_settings import AccountSettings
from .domain.deletion import AccountDeletion
from .domain.data_export import DataExport
from .domain.exports import Exports
from .domain.folders import Folders
from .domain.shares import Shares
from .domain.importer import Importer
from .domain.title_model import ModelTitler
from .domain.titles import Titles
from .domain.ledger import Ledger
from .domain.limits import Limits, LimitSettings
from .domain.mail_links import MailLinks
from .domain.mailer import Mailer, MailSettings
from .domain.messages import Messages
from .domain.parsing import ParseLimits, Parser
from .domain.presence import Presence
from .domain.profile import Profiles
from .domain.recovery import Recovery
from .domain.runner import Runner, StreamSettings
from .domain.streams import Streams

log = logging.getLogger("chatwire")


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    broker: Broker
    providers: dict[str, Provider]
    ledger: Ledger
    accounts: Accounts
    chats: Chats
    messages: Messages
    streams: Streams
    generations: Generations
    recovery: Recovery
    profiles: Profiles
    files: Files
    presence: Presence
    limits: Limits
    exports: Exports
    importer: Importer
    titles: Titles
    catalogue: Catalogue
    packs: PackCatalogue
    account_settings: AccountSettings
    folders: Folders
    shares: Shares
    account_deletion: AccountDeletion
    data_export: DataExport
    mail_links: MailLinks
    api_keys: ApiKeys
    completions: Completions
    billing: Billing
    admin: Admin
    order_review: OrderReview
    usage: UsageReport

    async def close(self) -> None:
        """Stop what is streaming, let mails in flight go, then close providers, broker and
        storage — each step even if one before it failed: an unclosed database keeps its threads
        alive."""
        for step in (self.streams.close, self.titles.close, self._close_mailer, self.billing.aclose,
                     *(p.aclose for p in self.providers.values()),
                     self._close_parser, self.files.blobs.close, self.broker.stop, self.db.close):
            try:
                await step()
            except Exception:
                log.exception("shutting down: a step failed; carrying on")

    async def _close_mailer(self) -> None:
        if self.mail_links.mailer is not None:
            await self.mail_links.mailer.close()

    async def _close_parser(self) -> None:
        self.files.parser.close()


async def build(settings: Settings, *, migrate: bool | None = None, realtime: bool = True,
                pool_size: int | None = None) -> Services:
    """Every service, connected. `migrate` defaults to the settings' MIGRATE_ON_START;
    `realtime=False` (the command line) keeps events in this process instead of Redis;
    `pool_size` overrides DB_POOL_SIZE (a command does one thing at a time)."""
    if settings.migrate_on_start if migrate is None else migrate:
        applied = await asyncio.to_thread(apply_migrations, settings.database_url)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
    db = await open_database(settings.database_url, pool_size=pool_size or settings.db_pool_size)
    catalogue: Catalogue | None = None  # made once the providers are known, below
    packs: PackCatalogue | None = None
    try:
        # The registry needs the broker's reply slots and the broker its stops: the callback
        # names `streams` late, and nothing calls it before the broker starts, below.
        broker = make_broker(settings.redis_url if realtime else None, settings.instance_id,
                             on_stop=lambda message_id: streams.stop_here(message_id),
                             on_catalogue_change=lambda: _catalogues_changed(catalogue, packs),
                             history=settings.event_history,
                             history_bytes=settings.event_history_bytes,
                             history_ttl_s=settings.event_history_ttl_s,
                             presence_ttl_s=settings.presence_ttl_s)
        streams = Streams(db, broker.slots, flush_s=settings.stream_flush_s,
                          max_per_user=settings.max_concurrent_generations)
        await broker.start()
    except BaseException:
        await db.close()
        raise
    providers: dict[str, Provider] = {}
    sellers: dict[str, PaymentProvider] = {}
    blobs: BlobStore | None = None
    try:
        blobs = await open_blobs(settings)
        providers = build_providers(settings.providers)
        catalogue = Catalogue(db, broker.events, broker.catalogue, set(providers))
        await catalogue.load(registry.load(settings.models_file))
        sellers = payment_providers(settings)
        packs = PackCatalogue(db, broker.catalogue,
                              {c for seller in sellers.values() for c in seller.currencies})
        await packs.load(shipped_packs(settings))
        return _wire(settings, db, broker, streams, providers, catalogue, packs, sellers, blobs)
    except BaseException:  # a configuration error found while wiring: leave nothing open
        for provider in [*providers.values(), *sellers.values()]:
            await provider.aclose()
        if blobs is not None:
            await blobs.close()
        await broker.stop()
        await db.close()
        raise


def _wire(settings: Settings, db: Database, broker: Broker, streams: Streams,
          providers: dict[str, Provider], catalogue: Catalogue, packs: PackCatalogue,
          sellers: dict[str, PaymentProvider], blobs: BlobStore) -> Services:
    models = catalogue.models  # live: replaced in place when an admin changes the catalogue
    events = broker.events
    ledger = Ledger(db, events)
    limits = Limits(broker.counters, LimitSettings(sends_per_minute=settings.rate_send_per_minute,
                                          uploads_per_hour=settings.rate_uploads_per_hour,
                                          auth_per_minute=settings.rate_auth_per_minute,
                                          writes_per_minute=settings.rate_write_per_minute,
                                          analyses_per_hour=settings.rate_analyze_per_hour,
                                          mail_per_ip_per_hour=settings.rate_mail_per_ip_per_hour,
                                          mail_per_email_per_hour=settings.rate_mail_per_email_per_hour,
                                          api_key_per_minute=settings.rate_api_key_per_minute,
                                          checkouts_per_minute=settings.rate_checkout_per_minute))
    chats = Chats(db, events)
    profiles = Profiles(db, events, analyzer(settings, models, providers),
                        prompt_budget_tokens=settings.profile_prompt_tokens)
    parser = Parser(ParseLimits(time_s=settings.parse_time_limit_s,
                                memory_mb=settings.parse_memory_mb, workers=settings.parse_workers))
    files = Files(db, events, file_settings(settings), limits, parser, blobs)
    stream_settings = StreamSettings(coalesce_s=settings.stream_coalesce_ms / 1000,
                                     flush_s=settings.stream_flush_s,
                                     first_token_timeout_s=settings.providers.first_token_timeout_s,
                                     idle_timeout_s=settings.providers.idle_timeout_s)
    titles = Titles(db, events, titler(settings, db, ledger, models, providers))
    generations = Generations(
        db, events, broker.stops, chats, ledger, models, providers,
        GenerationSettings(default_model=settings.default_model, instance_id=settings.instance_id),
        streams=streams, runner=Runner(db, events, ledger, stream_settings, titles),
        personalize=profiles.personalize, files=files, limits=limits)
    accounts = Accounts(db, events, ledger, auth_settings(settings), counter=broker.counters)
    exports = Exports(db)
    mailer = (Mailer(MailSettings(settings.smtp_url, settings.mail_from)) if settings.smtp_url
              else None)
    return Services(
        settings=settings, db=db, broker=broker, providers=providers, ledger=ledger,
        accounts=accounts,
        chats=chats, messages=Messages(db, events, chats, streams.live_text), streams=streams,
        generations=generations,
        recovery=Recovery(db, ledger, settings.instance_id, stream_settings), profiles=profiles, files=files,
        presence=Presence(broker.presence, events), limits=limits, exports=exports,
        account_settings=AccountSettings(db, events, models),
        account_deletion=AccountDeletion(db, events, accounts, blobs),
        data_export=DataExport(db, exports, ledger, profiles, blobs),
        folders=Folders(db, events), shares=Shares(db, events),
        importer=Importer(db, events), titles=titles, catalogue=catalogue, packs=packs,
        mail_links=MailLinks(db, events, accounts, limits, mailer, settings.link_base,
                             settings.require_email_verification),
        api_keys=ApiKeys(db, events, models),
        completions=Completions(db, ledger, limits, models, providers, streams, stream_settings),
        billing=Billing(db, ledger, limits, packs.packs, sellers, settings.link_base),
        admin=Admin(db, events, ledger), order_review=OrderReview(db, ledger), usage=UsageReport(db))


def _catalogues_changed(catalogue: Catalogue | None, packs: PackCatalogue | None) -> None:
    """The broker's catalogue signal: the models or the credit packs changed; reload both."""
    if catalogue is not None:
        catalogue.changed_elsewhere()
    if packs is not None:
        packs.changed_elsewhere()


def shipped_packs(settings: Settings) -> dict[str, Pack]:
    """The CREDIT_PACKS file's packs (they seed the table; a malformed file stops the start)."""
    try:
        return load_packs(settings.credit_packs)
    except PacksError as exc:
        raise ConfigError(str(exc)) from None


def payment_providers(settings: Settings) -> dict[str, PaymentProvider]:
    """The payment providers whose keys are set (none: no billing at all)."""
    providers: dict[str, PaymentProvider] = {}
    if settings.stripe_secret_key and settings.stripe_webhook_secret:
        from .domain.billing.stripe_pay import StripePay
        providers["stripe"] = StripePay(settings.stripe_secret_key, settings.stripe_webhook_secret,
                                        settings.stripe_api_base, settings.stripe_currencies)
    if settings.yookassa_shop_id and settings.yookassa_secret_key:
        from .domain.billing.yookassa_pay import YooKassaPay
        providers["yookassa"] = YooKassaPay(settings.yookassa_shop_id, settings.yookassa_secret_key,
                                            settings.yookassa_api_base)
    return providers


def auth_settings(settings: Settings) -> AuthSettings:
    return AuthSettings(
        jwt_secret=settings.jwt_secret_key,
        access_ttl_s=settings.access_token_ttl_s,
        refresh_ttl_s=settings.refresh_token_ttl_s,
        argon2_time_cost=settings.argon2_time_cost,
        argon2_memory_cost=settings.argon2_memory_cost,
        argon2_parallel=settings.argon2_parallel,
        login_max_failures=settings.login_max_failures,
        login_window_s=settings.login_window_s,
        signup_credits=settings.signup_credits,
        default_daily_cap=settings.default_daily_cap,
        default_monthly_cap=settings.default_monthly_cap,
    )


def analyzer(settings: Settings, models: dict[str, Model], providers: dict[str, Provider]) -> Analyzer:
    """The configured analysis model, or the offline rules (also for echo, which only repeats)."""
    chosen = settings.profile_analysis_model
    if not chosen or chosen == "echo":
        return Analyzer()
    model = models.get(chosen)
    if model is None or model.provider not in providers:
        raise ConfigError(f"PROFILE_ANALYSIS_MODEL={chosen} is not a configured model")
    return Analyzer(model, providers[model.provider],
                    idle_timeout_s=settings.providers.idle_timeout_s)


def titler(settings: Settings, db: Database, ledger: Ledger, models: dict[str, Model],
           providers: dict[str, Provider]) -> ModelTitler | None:
    """The model that names chats (TITLE_MODEL), or None for the offline title (also for echo,
    which only repeats)."""
    chosen = settings.title_model
    if not chosen or chosen == "echo":
        return None
    model = models.get(chosen)
    if model is None or model.provider not in providers:
        raise ConfigError(f"TITLE_MODEL={chosen} is not a configured model")
    return ModelTitler(db, ledger, models, chosen, providers[model.provider])


async def open_blobs(settings: Settings) -> BlobStore:
    """Where uploads' bytes live: the S3 bucket when S3_BUCKET is set (checked now: a missing
    bucket, refused credentials or an endpoint that does not answer stop the start), else
    UPLOAD_DIR."""
    if not settings.s3_bucket:
        return LocalBlobs(settings.upload_dir)
    from .domain.s3_blobs import S3Blobs, S3Settings, StorageConfigError
    store = S3Blobs(S3Settings(
        bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
        prefix=settings.s3_prefix, access_key_id=settings.aws_access_key_id,
        secret_access_key=settings.aws_secret_access_key, session_token=settings.aws_session_token))
    try:
        await store.start()
    except StorageConfigError as exc:
        raise ConfigError(str(exc)) from None
    return store


def file_settings(settings: Settings) -> FileSettings:
    return FileSettings(upload_dir=settings.upload_dir,
                        max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
                        quota_bytes=settings.user_storage_mb * 1024 * 1024,
                        max_image_pixels=settings.max_image_pixels)
