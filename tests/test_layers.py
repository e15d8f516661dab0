"""The architecture's one-way arrows, checked on the source itself."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports_of(package):
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_protocol_is_pure():
    banned = {"aiohttp", "aiosqlite", "aiopg", "psycopg2", "redis", "asyncio", "socket",
              "server", "storage", "providers", "openai", "anthropic", "google"}
    assert not banned & set(imports_of("protocol"))


def test_the_domain_never_imports_the_transport():
    assert "aiohttp" not in imports_of("server/domain")
    assert "aiohttp" not in imports_of("server/broker")


def test_storage_knows_nothing_of_the_server():
    assert not {"aiohttp", "server"} & set(imports_of("storage"))
