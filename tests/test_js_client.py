"""chatwire-client's own tests (clients/js/test, Node's built-in runner) against `run.py serve`
started by them: a socket dropped mid-reply resumes to exactly the stored text, an expired token is
refreshed through the token provider, the offline queue stores a message once. Run from here so
`make test` and `.ci/run` run them; they fail (never skip) under CI=true when Node is missing.

Node's own WebSocket (22+, or 20 with --experimental-websocket) and the tests' minimal one (what
Node 18, Debian's, has to use) are each exercised.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "clients" / "js"
TESTS = sorted(str(p.relative_to(PACKAGE)) for p in (PACKAGE / "test").glob("*.test.js"))


def node() -> str:
    found = shutil.which("node")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed (.ci/run installs it)")
        pytest.skip("node is not installed")
    return found


def native_flags(binary: str) -> list[str] | None:
    """What gives this Node a WebSocket of its own, or None when it has none."""
    for flags in ([], ["--experimental-websocket"]):
        probe = subprocess.run([binary, *flags, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
                               capture_output=True)
        if probe.returncode == 0:
            return flags
    return None


@pytest.mark.parametrize("websocket", ["native", "mini"])
def test_the_js_client_passes_its_tests_against_a_real_server(websocket):
    binary = node()
    flags = native_flags(binary) if websocket == "native" else []
    if flags is None:
        pytest.skip("this Node has no WebSocket of its own: the minimal one is tested")
    assert len(TESTS) >= 2, TESTS
    env = {**os.environ, "CHATWIRE_PYTHON": sys.executable,
           "CHATWIRE_TEST_WEBSOCKET": websocket}
    run = subprocess.run([binary, *flags, "--test", "--test-reporter=tap", *TESTS], cwd=PACKAGE, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "# fail 0" in run.stdout and "# pass 0" not in run.stdout, run.stdout[-2000:]
