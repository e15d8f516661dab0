"""The deployment files agree with the code: no Docker engine runs here, so what can be checked
without one is checked — every variable they pass is one the app reads, every command and path they
name exists."""
import json
import re
import shlex
from pathlib import Path

import yaml

from run import build_parser
from server.config import load_settings, settings_from
from server.web import create_app

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "CHATWIRE_PORT"}  # read by docker compose, not by the app
LOADER_ONLY = {"LD_PRELOAD"}  # read by the dynamic loader (jemalloc), not by the app


class Recording(dict):
    """An environment that remembers every name the settings loader asks for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)


def app_variables(tmp_path):
    env = Recording(VAR_DIR=str(tmp_path))
    settings_from(env)
    return env.asked


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def substituted(text):
    """Names used as ${NAME}, ${NAME:-default} or ${NAME:?message}."""
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))


def env_example_names():
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.M))


def get_routes(tmp_path):
    settings = load_settings({"VAR_DIR": str(tmp_path)}, env_file=None)
    app = create_app(settings)
    return {r.resource.canonical for r in app.router.routes() if r.method == "GET"}


def test_the_scan_of_variables_sees_what_the_app_reads(tmp_path):
    names = app_variables(tmp_path)
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PORT", "OPENAI_API_KEY"} <= names


def test_env_example_documents_exactly_the_variables_there_are(tmp_path):
    names = app_variables(tmp_path)
    documented = env_example_names()
    assert sorted(names - documented) == [], "read by the app but missing from .env.example"
    assert sorted(documented - names - COMPOSE_ONLY) == [], "in .env.example but read by nothing"


def test_the_readme_documents_every_variable(tmp_path):
    readme = (ROOT / "README.md").read_text()
    assert sorted(n for n in app_variables(tmp_path) if f"`{n}`" not in readme) == []


def test_compose_passes_the_app_only_variables_it_reads(tmp_path):
    names = app_variables(tmp_path)
    services = compose()["services"]
    app_env = services["app"]["environment"]
    assert sorted(set(app_env) - names) == []
    text = (ROOT / "docker-compose.yml").read_text()
    assert sorted(substituted(text) - names - COMPOSE_ONLY) == []
    assert substituted(text) <= env_example_names()


def test_compose_runs_the_documented_stack(tmp_path):
    doc = compose()
    services = doc["services"]
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["app"]["deploy"]["replicas"] == 2
    assert services["app"]["build"] == "."
    for name in ("postgres", "redis", "app"):
        assert "healthcheck" in services[name], name
    for name in ("postgres", "redis"):
        assert services["app"]["depends_on"][name]["condition"] == "service_healthy"
    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])
            if not v.startswith(".")}
    assert used <= set(doc["volumes"])
    # The app's database and Redis point at the compose services by name.
    env = services["app"]["environment"]
    assert "@postgres:5432/" in env["DATABASE_URL"] and env["REDIS_URL"].startswith("redis://redis:")
    settings = load_settings({**{k: str(v) for k, v in env.items()},
                              "DATABASE_URL": "postgresql://u:p@postgres:5432/chatwire",
                              "SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40,
                              "VAR_DIR": str(tmp_path)}, env_file=None)
    # The app trusts nginx's fixed address alone for X-Forwarded-For.
    proxy_address = services["proxy"]["networks"]["default"]["ipv4_address"]
    assert settings.forwarded_allow_ips == (proxy_address,) and settings.port == 8080
    subnet = doc["networks"]["default"]["ipam"]["config"][0]["subnet"]
    import ipaddress
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    # The stop grace outlasts the app's own drain.
    assert int(services["app"]["stop_grace_period"].rstrip("s")) > settings.shutdown_grace_s


def test_nginx_proxies_websockets_to_the_app_port():
    services = compose()["services"]
    mount = next(v for v in services["proxy"]["volumes"] if v.endswith("nginx.conf:ro"))
    conf = (ROOT / mount.split(":")[0]).read_text()
    port = services["app"]["environment"]["PORT"]
    assert f"server app:{port}" in conf
    assert "proxy_set_header Upgrade $http_upgrade" in conf
    assert "proxy_set_header Connection $connection_upgrade" in conf
    assert "X-Forwarded-For" in conf and "proxy_read_timeout 1h" in conf


def dockerfile():
    return (ROOT / "Dockerfile").read_text()


def test_the_dockerfile_start_command_and_healthcheck_exist(tmp_path):
    text = dockerfile()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, flags=re.M).group(1))
    assert cmd[:2] == ["python", "run.py"] and (ROOT / "run.py").is_file()
    build_parser().parse_args(cmd[2:])  # `serve` is a real subcommand (exits on an unknown one)
    assert "/healthz" in text and "/healthz" in get_routes(tmp_path)


def test_the_dockerfile_is_multi_stage_slim_and_unprivileged():
    text = dockerfile()
    stages = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert len(stages) >= 2 and all(s.startswith("python:3.11-slim") for s in stages)
    assert re.search(r"^USER (?!root)\S+", text, flags=re.M)
    assert re.search(r"^HEALTHCHECK ", text, flags=re.M)
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.M):
        for path in source.split():
            assert (ROOT / path).exists(), f"Dockerfile copies {path}, which does not exist"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".venv" in ignored  # no secrets or local builds in the image


def test_railway_starts_the_same_command_and_checks_a_real_route(tmp_path):
    railway = json.loads((ROOT / "railway.json").read_text())
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile(), flags=re.M).group(1))
    assert shlex.split(railway["deploy"]["startCommand"]) == cmd
    assert railway["deploy"]["healthcheckPath"] in get_routes(tmp_path)
    assert (ROOT / railway["build"]["dockerfilePath"]).is_file()


def test_the_makefile_has_the_docker_and_migrate_targets():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("docker-up", "docker-down", "docker-logs", "migrate", "run", "test"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
    assert "docker compose up" in makefile


def test_the_railway_guide_sets_only_variables_the_app_reads(tmp_path):
    guide = (ROOT / "docs" / "DEPLOY.md").read_text()
    assigned = set(re.findall(r"^\s*([A-Z][A-Z0-9_]+)=", guide, flags=re.M))
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= assigned
    assert sorted(assigned - app_variables(tmp_path)) == []
    mentioned = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})(?:=[^`]*)?`", guide))
    assert sorted(mentioned - app_variables(tmp_path) - COMPOSE_ONLY - LOADER_ONLY) == []


def test_the_image_preloads_the_jemalloc_it_installs():
    runtime = dockerfile().split("\nFROM ")[-1]  # the final stage: what runs
    assert re.search(r"apt-get install[^\n]*libjemalloc2", runtime)
    # Debian's libjemalloc2 ships libjemalloc.so.2; a bare soname is found on any architecture
    assert re.search(r"^ENV LD_PRELOAD=(\S+)$", runtime, flags=re.M).group(1) == "libjemalloc.so.2"
