"""`Recently`: which keys this process recorded a use of, so /v1 skips the write in between."""
import time

from server.domain.api_keys import Recently


def test_a_key_is_due_once_per_window_and_again_after_it():
    recently = Recently(0.05)
    assert recently.due("k1") and not recently.due("k1")
    assert recently.due("k2")  # each key on its own
    time.sleep(0.06)
    assert recently.due("k1") and not recently.due("k1")


def test_it_forgets_stale_keys_when_full_and_keeps_the_recent_ones():
    recently = Recently(0.05, most=3)
    for key in ("a", "b", "c"):
        assert recently.due(key)
    time.sleep(0.06)
    assert recently.due("d")  # full: the three stale ones are dropped
    assert len(recently._at) == 1
    assert not recently.due("d")
