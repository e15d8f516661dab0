"""The tests' own layout: a test module imports shared helpers from tests.helpers (or the other
helper modules), never from another test module or from a conftest."""
import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def forbidden(dotted: str) -> bool:
    """A test module (test_*) or a conftest, anywhere under tests/."""
    parts = dotted.split(".")
    return parts[0] == "tests" and any(p == "conftest" or p.startswith("test_") for p in parts[1:])


def cross_imports(source: str, module: str) -> list[str]:
    """What `module` (dotted, e.g. tests.server.test_x) imports from test modules or conftests."""
    package = module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .conftest import x, from ..server import test_files
                base = package[:len(package) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # `from tests.server import test_files` imports a test module by its name
            targets = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        else:
            continue
        bad = [t for t in targets if forbidden(t)]
        if bad:
            found.append(f"line {node.lineno}: {bad[-1]}")
    return found


def test_no_test_module_or_conftest_imports_another_test_module_or_a_conftest():
    modules = sorted(TESTS.rglob("test_*.py")) + sorted(TESTS.rglob("conftest.py"))
    assert len(modules) > 30  # the glob found the suite
    offenders = {module_name(p): found for p in modules
                 if (found := cross_imports(p.read_text(), module_name(p)))}
    assert offenders == {}, "import shared helpers from tests.helpers instead"


def test_the_check_sees_every_spelling_of_such_an_import():
    bad = ["from tests.conftest import register",
           "from tests.server.test_files import upload",
           "from tests.server import test_files",
           "import tests.test_crash_recovery",
           "from .conftest import SHOTS",
           "from ..server.test_ws_resume import open_socket",
           "def f():\n    from tests.web.conftest import sign_up"]
    for source in bad:
        assert cross_imports(source, "tests.web.test_client"), source
    good = ["from tests.helpers import register", "from tests import samples, services",
            "from tests.client import WSClient", "from tests.fakes.vendors import FakeVendor",
            "from .helpers import until", "import pytest", "from server.domain import branches"]
    for source in good:
        assert not cross_imports(source, "tests.web.test_client"), source
