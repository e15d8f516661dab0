"""Fixtures the provider tests share."""
import socket
import time

import pytest


@pytest.fixture
def unanswered_port():
    """A port whose connects hang: it listens with a backlog of 0, already full, so the kernel
    drops every further SYN (Linux, tcp_abort_on_overflow=0) and the client waits."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)
    with socket.socket() as probe:  # the premise: a further connect does hang
        probe.settimeout(0.2)
        with pytest.raises(TimeoutError):
            probe.connect(("127.0.0.1", port))
    yield port
    for s in (*fillers, server):
        s.close()
