"""The in-process counters behind the rate limits (used without Redis, or while it is away)."""
from server.broker.local import LocalCounters


def test_an_hourly_count_survives_a_flood_of_minute_counters():
    counter = LocalCounters()
    for _ in range(3):
        counter.count_now("upload:alice", 3600)
    for i in range(10_050):  # made-up addresses trying to sign in: forces a clean-up
        counter.count_now(f"auth:10.0.{i // 256}.{i % 256}", 60)
    hits, _ = counter.count_now("upload:alice", 3600)
    assert hits == 4  # the clean-up dropped only finished windows, judged by their own length


def test_looking_does_not_count_and_forgetting_starts_over():
    counter = LocalCounters()
    assert counter.count_now("login-failures:x", 900, by=0)[0] == 0
    counter.count_now("login-failures:x", 900)
    counter.count_now("login-failures:x", 900)
    assert counter.count_now("login-failures:x", 900, by=0)[0] == 2
    counter.forget_now("login-failures:x", 900)
    assert counter.count_now("login-failures:x", 900, by=0)[0] == 0
