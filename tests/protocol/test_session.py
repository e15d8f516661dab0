"""The per-connection event order (protocol/session.py), sans I/O, exhaustively with hypothesis:
whatever interleaving of live events, notices, releases and resumes, a client gets every event at
most once and in seq order, and after a resume while held, every event it missed, first."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from protocol.session import MAX_HELD, NOTICE, Session


class Recording(Session):
    """A session whose transport is a list: what the client would receive, in order."""

    __slots__ = ("out",)

    def __init__(self) -> None:
        super().__init__()
        self.out: list[tuple[int, str]] = []

    def write(self, frame):
        self.out.append(frame)

    def seqs(self) -> list[int]:
        return [seq for seq, _ in self.out if seq != NOTICE]


def frame(seq: int) -> tuple[int, tuple[int, str]]:
    return seq, (seq, f"event {seq}")


def notice(n: int) -> tuple[int, tuple[int, str]]:
    return NOTICE, (NOTICE, f"notice {n}")


def test_events_before_release_are_held_then_sent_once_in_order():
    s = Recording()
    s.start(5)
    for seq in (6, 7, 7, 6, 8):
        s.deliver(*frame(seq))
    assert s.out == [] and s.holding
    s.release()
    assert s.seqs() == [6, 7, 8] and not s.holding
    s.deliver(*frame(8))
    s.deliver(*frame(9))
    assert s.seqs() == [6, 7, 8, 9]


def test_history_delivered_while_subscribing_is_not_sent_as_live():
    # Subscribed before the seq was read: an event at or below `live_from` may arrive; it is
    # history (a resume's to send), not live.
    s = Recording()
    s.deliver(*frame(3))
    s.start(3)
    s.release()
    assert s.out == []


def test_a_resume_while_held_puts_the_missed_events_first():
    s = Recording()
    s.start(10)
    s.deliver(*frame(11))
    s.deliver(*notice(1))
    s.deliver(*frame(12))
    assert s.can_replay(7)
    replayed = s.replay(7, [frame(seq) for seq in range(8, 13)])
    assert replayed == 5
    assert s.seqs() == [8, 9, 10, 11, 12]
    assert s.out[-1] == (NOTICE, "notice 1")  # the held notice follows, once
    assert not s.holding


def test_once_live_events_went_out_a_replay_behind_them_is_refused():
    s = Recording()
    s.start(10)
    s.release()
    s.deliver(*frame(11))
    assert not s.can_replay(7)  # 8..10 could no longer come before 11: the client must resync
    assert s.can_replay(10)  # nothing missed before what was sent


def test_a_client_that_never_speaks_is_released_past_the_cap():
    s = Recording()
    s.start(0)
    for seq in range(1, MAX_HELD + 2):
        s.deliver(*frame(seq))
    assert not s.holding
    assert s.seqs() == list(range(1, MAX_HELD + 2))


def test_notices_always_go_and_are_never_deduplicated():
    s = Recording()
    s.start(0)
    s.release()
    s.deliver(*notice(1))
    s.deliver(*notice(1))
    assert s.out == [(NOTICE, "notice 1")] * 2


@settings(max_examples=300, deadline=None)
@given(history=st.integers(0, 30), missed=st.integers(0, 30),
       steps=st.lists(st.sampled_from(["event", "notice", "duplicate"]), max_size=40),
       resume_at=st.integers(0, 40))
def test_resuming_while_held_misses_nothing_and_repeats_nothing(history, missed, steps, resume_at):
    """A client saw events up to `last_seq`; `history` events exist when it reconnects; live
    events (and duplicates of them, as two instances may both deliver) interleave with its
    resume, which the broker answers with every kept event after `last_seq` so far."""
    last_seq = max(0, history - missed)
    s = Recording()
    s.start(history)
    published = history
    resumed = False
    for i, step in enumerate(steps):
        if i == resume_at and not resumed:
            assert s.can_replay(last_seq)
            s.replay(last_seq, [frame(seq) for seq in range(last_seq + 1, published + 1)])
            resumed = True
        if step == "event":
            published += 1
            s.deliver(*frame(published))
        elif step == "duplicate":
            if published > 0:
                s.deliver(*frame(published))
        else:
            s.deliver(*notice(i))
    if not resumed:
        s.replay(last_seq, [frame(seq) for seq in range(last_seq + 1, published + 1)])
    assert s.seqs() == list(range(last_seq + 1, published + 1))
    assert sum(1 for seq, _ in s.out if seq == NOTICE) == steps.count("notice")  # each once


class SessionMachine(RuleBasedStateMachine):
    """Any order of inputs: what is written is increasing and has no repeats; once released,
    every new live event is written at once."""

    def __init__(self) -> None:
        super().__init__()
        self.s = Recording()
        self.published = 0
        self.started = False

    @rule(at=st.integers(0, 5))
    @precondition(lambda self: not self.started)
    def start(self, at):
        # The seq read after subscribing: at least every event already delivered, maybe more.
        self.published += at
        self.s.start(self.published)
        self.started = True

    @rule()
    def event(self):
        self.published += 1
        before = len(self.s.out)
        self.s.deliver(*frame(self.published))
        if self.started and not self.s.holding and self.published > self.s.live_from:
            assert self.s.out[before:][-1] == (self.published, f"event {self.published}")

    @rule(back=st.integers(0, 3))
    def duplicate(self, back):
        if self.published - back > 0:
            self.s.deliver(*frame(self.published - back))

    @rule()
    def a_notice(self):
        self.s.deliver(*notice(0))

    @rule()
    @precondition(lambda self: self.started)  # the transport starts a session before anything releases it
    def release(self):
        self.s.release()

    @rule(back=st.integers(0, 5))
    @precondition(lambda self: self.started)
    def resume(self, back):
        last_seq = max(0, self.published - back)
        if self.s.can_replay(last_seq):
            self.s.replay(last_seq, [frame(q) for q in range(last_seq + 1, self.published + 1)])

    @invariant()
    def written_in_order_once(self):
        seqs = self.s.seqs()
        assert seqs == sorted(set(seqs))
        assert not seqs or seqs[-1] <= self.published
        assert self.s.sent_seq >= (seqs[-1] if seqs else 0)


TestSessionMachine = SessionMachine.TestCase
TestSessionMachine.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
