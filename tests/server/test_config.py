"""Configuration: the embedded default needs nothing; PostgreSQL needs real secrets."""
import os
import stat

import pytest

from server.config import ConfigError, load_settings


def test_the_embedded_default_generates_secrets_once_with_mode_0600(tmp_path):
    env = {"VAR_DIR": str(tmp_path / "var")}
    first = load_settings(env, env_file=None)
    second = load_settings(env, env_file=None)
    assert first.database_url == f"sqlite:///{tmp_path / 'var' / 'chatwire.db'}"
    assert first.jwt_secret_key == second.jwt_secret_key and len(first.jwt_secret_key) >= 32
    assert first.secret_key != first.jwt_secret_key
    for name in ("secret_key", "jwt_secret_key"):
        mode = stat.S_IMODE(os.stat(tmp_path / "var" / name).st_mode)
        assert mode == 0o600


def test_postgres_without_secrets_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY is required|SECRET_KEY is required"):
        load_settings({"DATABASE_URL": "postgresql://x@localhost/db", "VAR_DIR": str(tmp_path)},
                      env_file=None)
    assert not (tmp_path / "jwt_secret_key").exists()


def test_a_weak_jwt_secret_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY is too weak"):
        load_settings({"DATABASE_URL": "postgresql://x@localhost/db", "SECRET_KEY": "k" * 40,
                       "JWT_SECRET_KEY": "short", "VAR_DIR": str(tmp_path)}, env_file=None)


def test_env_overrides_the_dot_env_file(tmp_path):
    dot_env = tmp_path / ".env"
    dot_env.write_text("PORT=9000\nHOST=0.0.0.0\nCORS_ORIGINS=https://a.example/, https://b.example\n")
    settings = load_settings({"PORT": "9100", "VAR_DIR": str(tmp_path / "v")}, env_file=str(dot_env))
    assert settings.port == 9100 and settings.host == "0.0.0.0"
    assert settings.cors_origins == ("https://a.example", "https://b.example")


def test_a_malformed_number_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="PORT must be an integer"):
        load_settings({"PORT": "eighty", "VAR_DIR": str(tmp_path)}, env_file=None)


def test_an_unknown_database_scheme_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings({"DATABASE_URL": "mysql://x", "VAR_DIR": str(tmp_path)}, env_file=None)


@pytest.mark.parametrize("env, message", [
    ({"STRIPE_SECRET_KEY": "sk_test_1"}, "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET go together"),
    ({"STRIPE_WEBHOOK_SECRET": "whsec_1"}, "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET go together"),
    ({"YOOKASSA_SHOP_ID": "1"}, "YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY go together"),
    ({"CREDIT_PACKS": "/nonexistent/packs.json"}, "is not a file"),
    ({"STRIPE_API_BASE": "ftp://x"}, "STRIPE_API_BASE must be an http"),
])
def test_a_payment_provider_with_half_its_secrets_refuses_to_start(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"VAR_DIR": str(tmp_path), **env}, env_file=None)


def test_a_malformed_packs_file_refuses_to_start(tmp_path):
    import asyncio

    from server import services
    packs = tmp_path / "packs.json"
    packs.write_text('[{"id": "x", "credits": 5, "price": 0, "currency": "usd"}]')
    settings = load_settings({"VAR_DIR": str(tmp_path), "CREDIT_PACKS": str(packs),
                              "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}, env_file=None)
    with pytest.raises(ConfigError, match="pack x: `price` must be a positive integer"):
        asyncio.run(services.build(settings, migrate=True))


@pytest.mark.parametrize("env, message", [
    ({"S3_ENDPOINT_URL": "http://minio:9000"}, "need S3_BUCKET"),
    ({"S3_PREFIX": "prod"}, "need S3_BUCKET"),
    ({"S3_BUCKET": "Bad_Bucket"}, "S3_BUCKET='Bad_Bucket' is not a bucket name"),
    ({"S3_BUCKET": "ok-bucket", "S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL must be an http"),
    ({"S3_BUCKET": "ok-bucket", "AWS_ACCESS_KEY_ID": "AKIA123"}, "go together"),
])
def test_object_storage_settings_that_cannot_work_refuse_to_start(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"VAR_DIR": str(tmp_path), **env}, env_file=None)


def test_object_storage_settings_and_its_keys_from_dot_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("S3_BUCKET=chatwire-uploads\nS3_PREFIX=/prod/\n"
                                   "AWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY=very-secret\n")
    settings = load_settings({"VAR_DIR": str(tmp_path), "S3_ENDPOINT_URL": "https://r2.example/"})
    assert (settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url) == (
        "chatwire-uploads", "prod/", "https://r2.example")
    assert settings.aws_secret_access_key == "very-secret" and "very-secret" not in repr(settings)
    assert load_settings({"VAR_DIR": str(tmp_path)}, env_file=None).s3_bucket is None  # on disk
