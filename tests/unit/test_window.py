"""The key-ordered window, driven by random interleavings of what a consumer loop does: fetch
what there is room for, start what may start, end running records in any order (a latency is
the order they end in; a failure is a record abandoned unfinished), commit, lose a partition in
a rebalance and get it back, re-reading from its last commit.

The oracle is the consumer's contract, kept independently of the window's bookkeeping: a record
runs only after every earlier record of its key (in its partition) has finished, never next to
another of its key; at most `max_in_flight` run; a committed offset never passes a record that
has not finished; nothing is committed for a partition while it is not ours; and once every
partition is ours and every record ends, each partition is committed to its end.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from aiokafka import TopicPartition
from hypothesis import given, settings
from hypothesis import strategies as st

from production.messaging.window import Entry, KeyOrderedWindow

KEYS = [b"a", b"b", b"c", b"d", None]


def tp(p: int) -> TopicPartition:
    return TopicPartition("t", p)


# A partition's records: offsets rising with gaps (compaction, transaction markers), and keys.
partition_records = st.lists(
    st.tuples(st.integers(1, 3), st.sampled_from(KEYS)), max_size=30,
).map(lambda rows: [(sum(g for g, _ in rows[:i + 1]), key) for i, (_, key) in enumerate(rows)])


@dataclass
class Consumer:
    """The oracle's side: the topic, what the broker has committed, and what has been done."""

    records: dict[TopicPartition, list[tuple[int, bytes | None]]]
    window: KeyOrderedWindow[str]
    position: dict[TopicPartition, int] = field(default_factory=dict)  # index of next fetch
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    assigned: set[TopicPartition] = field(default_factory=set)
    running: list[Entry[str]] = field(default_factory=list)
    orphans: set[int] = field(default_factory=set)  # id() of running entries of lost partitions
    ever_done: set[tuple[TopicPartition, int]] = field(default_factory=set)
    # This assignment's admitted and finished offsets, per partition.
    admitted: dict[TopicPartition, list[tuple[int, bytes | None]]] = field(
        default_factory=lambda: defaultdict(list))
    done: dict[TopicPartition, set[int]] = field(default_factory=lambda: defaultdict(set))

    def assign(self, part: TopicPartition) -> None:
        self.window.assign([part])
        self.assigned.add(part)
        start = self.committed.get(part, 0)
        self.position[part] = next(
            (i for i, (off, _) in enumerate(self.records[part]) if off >= start),
            len(self.records[part]))

    def fetch(self, part: TopicPartition, n: int) -> None:
        rows = self.records[part][self.position[part]:][:min(n, self.window.room())]
        for off, key in rows:
            assert self.window.admit(part, off, key, f"{part.partition}@{off}")
            self.admitted[part].append((off, key))
        self.position[part] += len(rows)

    def start(self) -> None:
        for entry in self.window.start():
            part, key = entry.partition, entry.key
            earlier = [o for o, k in self.admitted[part] if k == key and o < entry.offset]
            assert set(earlier) <= self.done[part], "a record started before an earlier one"
            assert not any(r.partition == part and r.key == key for r in self.running), (
                "two records of one key ran at once")
            self.running.append(entry)
        assert self.window.in_flight == len(self.running) <= self.window.max_in_flight
        assert self.window.held <= self.window.capacity

    def end(self, index: int, *, done: bool) -> None:
        entry = self.running.pop(index)
        self.window.finish(entry, done=done)
        if id(entry) in self.orphans:
            self.orphans.discard(id(entry))
            self.ever_done.add((entry.partition, entry.offset))  # its work happened anyway
        elif done:
            self.done[entry.partition].add(entry.offset)
            self.ever_done.add((entry.partition, entry.offset))

    def commit(self, *, succeeds: bool = True) -> None:
        points = self.window.commit_points()
        for part, point in points.items():
            assert part in self.assigned, "a commit for a partition that is not ours"
            below = {o for o, _ in self.admitted[part] if o < point}
            assert below <= self.done[part], "the commit passed an unfinished record"
        if succeeds:
            self.window.committed(points)
            self.committed.update(points)
        for part, point in self.committed.items():  # what the broker holds: at least once
            assert all((part, o) in self.ever_done for o, _ in self.records[part] if o < point)

    def revoke(self, part: TopicPartition, grace: list[int]) -> None:
        self.window.revoke([part])
        self.assigned.discard(part)
        for index in grace:  # some of its running records finish within the grace
            mine = [i for i, r in enumerate(self.running)
                    if r.partition == part and id(r) not in self.orphans]
            if mine:
                self.end(mine[index % len(mine)], done=True)
        for point_part, point in self.window.commit_points([part]).items():
            below = {o for o, _ in self.admitted[point_part] if o < point}
            assert below <= self.done[point_part]
            self.window.committed({point_part: point})
            self.committed[point_part] = point
        orphaned = [r for r in self.running if r.partition == part and id(r) not in self.orphans]
        assert self.window.forget([part]) == len(orphaned)
        self.orphans |= {id(r) for r in orphaned}
        self.admitted[part], self.done[part] = [], set()


KINDS = ["fetch"] * 4 + ["end"] * 5 + ["abandon"] * 2 + ["commit", "commit_fails", "revoke",
                                                         "assign"]
actions = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 1_000),
                             st.lists(st.integers(0, 10), max_size=3)), max_size=120)


@settings(max_examples=400, deadline=None)
@given(topic=st.lists(partition_records, min_size=1, max_size=3),
       bound=st.integers(1, 5), extra=st.integers(0, 6), script=actions)
def test_key_order_bound_and_commits_hold_under_any_interleaving(
    topic: list[list[tuple[int, bytes | None]]], bound: int, extra: int,
    script: list[tuple[str, int, list[int]]],
) -> None:
    window: KeyOrderedWindow[str] = KeyOrderedWindow(max_in_flight=bound,
                                                     capacity=bound + extra)
    c = Consumer({tp(p): rows for p, rows in enumerate(topic)}, window)
    parts = list(c.records)
    for part in parts:
        c.assign(part)
    for action, n, grace in script:
        part = parts[n % len(parts)]
        if action == "fetch" and part in c.assigned:
            c.fetch(part, 1 + n % 7)
        elif action in ("end", "abandon") and c.running:
            c.end(n % len(c.running), done=action == "end")
        elif action in ("commit", "commit_fails"):
            c.commit(succeeds=action == "commit")
        elif action == "revoke" and part in c.assigned:
            c.revoke(part, grace)
        elif action == "assign" and part not in c.assigned:
            c.assign(part)
        c.start()

    # Every partition comes back (re-read from its commit) and every record ends: each
    # partition is then committed to its end, whatever happened before.
    for part in parts:
        if part in c.assigned:
            c.revoke(part, [])
        c.assign(part)
    for _ in range(10 * sum(len(rows) for rows in topic) + 10):
        for part in parts:
            c.fetch(part, 7)
        c.start()
        if c.running:
            c.end(0, done=True)
        c.commit()
    assert not c.running and window.in_flight == 0 and window.held == 0
    for part, rows in c.records.items():
        if rows:
            assert c.committed[part] == rows[-1][0] + 1


def _run(window: KeyOrderedWindow[str], part: TopicPartition,
         records: list[tuple[int, bytes | None]]) -> None:
    for off, key in records:
        window.admit(part, off, key, f"{key!r}@{off}")


def test_a_slow_record_holds_its_key_and_the_commit_but_not_the_other_keys() -> None:
    window: KeyOrderedWindow[str] = KeyOrderedWindow(max_in_flight=4)
    _run(window, tp(0), [(0, b"slow"), (1, b"x"), (2, b"slow"), (3, b"y"), (4, b"x")])
    first = window.start()
    assert [e.offset for e in first] == [0, 1, 3]  # 2 waits behind 0, 4 behind 1
    slow, x, y = first
    window.finish(x)
    window.finish(y)
    assert [e.offset for e in window.start()] == [4]
    assert window.commit_points() == {}  # offset 0 is unfinished: nothing may be committed
    window.finish(slow)
    [again] = window.start()
    assert again.offset == 2
    assert window.commit_points() == {tp(0): 2}


def test_what_a_partition_holds_is_what_its_commit_point_has_not_passed() -> None:
    window: KeyOrderedWindow[str] = KeyOrderedWindow(max_in_flight=4)
    _run(window, tp(0), [(0, b"slow"), (1, b"x"), (2, b"y")])
    slow, x, y = window.start()
    assert (window.held_in(tp(0)), window.held_in(tp(1))) == (3, 0)
    window.finish(x)
    window.finish(y)
    assert window.held_in(tp(0)) == 3  # done, but behind offset 0: the consumer lag counts them
    window.finish(slow)
    assert window.held_in(tp(0)) == 0


def test_records_without_a_key_keep_their_partition_order() -> None:
    window: KeyOrderedWindow[str] = KeyOrderedWindow(max_in_flight=8)
    _run(window, tp(0), [(0, None), (1, None)])
    _run(window, tp(1), [(0, None)])
    assert [(e.partition.partition, e.offset) for e in window.start()] == [(0, 0), (1, 0)]


def test_a_full_window_has_no_room_until_it_drains_to_the_low_water_mark() -> None:
    window: KeyOrderedWindow[str] = KeyOrderedWindow(max_in_flight=2, capacity=4)
    _run(window, tp(0), [(i, bytes([i])) for i in range(4)])
    assert window.room() == 0 and not window.drained()
    started = window.start()
    assert len(started) == 2 and window.in_flight == 2
    window.finish(started[0])
    assert window.room() == 1 and not window.drained()  # 3 held, low water is 2
    window.finish(started[1])
    assert window.drained()
    assert window.commit_points() == {tp(0): 2}


def test_an_abandoned_record_stays_unfinished_and_nothing_of_its_key_overtakes_it() -> None:
    window: KeyOrderedWindow[str] = KeyOrderedWindow(max_in_flight=4)
    _run(window, tp(0), [(0, b"k"), (1, b"k"), (2, b"j")])
    k0, j2 = window.start()
    window.finish(k0, done=False)
    window.finish(j2)
    assert window.start() == []  # k@1 was dropped with its lane
    _run(window, tp(0), [(3, b"k")])  # and a later one never overtakes it either
    assert window.start() == []
    assert window.commit_points() == {}


def test_a_revoked_partition_commits_nothing_and_its_orphan_still_holds_its_key() -> None:
    window: KeyOrderedWindow[str] = KeyOrderedWindow(max_in_flight=4)
    _run(window, tp(0), [(0, b"k"), (1, b"k"), (2, b"j")])
    k0, j2 = window.start()
    window.finish(j2)
    assert window.revoke([tp(0)]) == 1  # k@1 dropped
    assert not window.admit(tp(0), 3, b"k", "late")  # fetched before the revoke: ignored
    assert window.forget([tp(0)]) == 1  # k@0 runs on, an orphan
    assert window.commit_points() == {}
    window.assign([tp(0)])
    _run(window, tp(0), [(0, b"k"), (1, b"k")])  # read again from the last commit
    assert window.start() == []  # k@0's second copy waits for the orphan
    assert window.in_flight == 1 and window.held == 3
    window.finish(k0)  # the orphan ends: nothing is committed for it
    assert window.commit_points() == {}
    [k0_again] = window.start()
    assert k0_again.offset == 0
    window.finish(k0_again)
    assert window.commit_points() == {tp(0): 1}


def test_a_key_dropped_by_a_revoke_and_fetched_again_runs_one_record_at_a_time() -> None:
    window: KeyOrderedWindow[str] = KeyOrderedWindow(max_in_flight=2)
    _run(window, tp(1), [(0, b"hog")])
    _run(window, tp(0), [(0, b"busy"), (1, b"k")])
    hog, busy = window.start()  # k@1 waits for a free slot, its lane queued as ready
    window.revoke([tp(0)])
    window.finish(busy)
    window.forget([tp(0)])
    window.assign([tp(0)])
    _run(window, tp(0), [(1, b"k"), (2, b"k")])  # read again from the commit
    window.finish(hog)
    assert [e.offset for e in window.start()] == [1]  # k@2 waits for k@1


def test_a_rewound_partition_starts_afresh() -> None:
    window: KeyOrderedWindow[str] = KeyOrderedWindow(max_in_flight=4)
    _run(window, tp(0), [(5, b"a"), (6, b"b")])
    a5, b6 = window.start()
    window.admit(tp(0), 3, b"c", "rewound")
    window.finish(b6)  # of the old start: an orphan, not committed
    assert window.commit_points() == {}
    [c3] = window.start()
    window.finish(c3)
    assert window.commit_points() == {tp(0): 4}
    window.finish(a5)
    assert window.in_flight == 0


def test_the_window_refuses_a_bound_below_one_or_a_capacity_below_the_bound() -> None:
    with pytest.raises(ValueError, match="max_in_flight"):
        KeyOrderedWindow[str](max_in_flight=0)
    with pytest.raises(ValueError, match="capacity"):
        KeyOrderedWindow[str](max_in_flight=4, capacity=3)
    window: KeyOrderedWindow[str] = KeyOrderedWindow(max_in_flight=1)
    _run(window, tp(0), [(0, b"a")])
    [entry] = window.start()
    window.finish(entry)
    with pytest.raises(ValueError, match="not running"):
        window.finish(entry)
