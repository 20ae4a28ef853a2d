"""The key-ordered window: which fetched records may run now, and how far each partition may
be committed (Confluent Parallel Consumer's key-ordering mode).

- Records of one key within a partition (a lane) run one at a time, in offset order; a record
  without a key shares the partition's keyless lane, so unkeyed records keep partition order.
- Records of different lanes run concurrently, at most `max_in_flight` at once.
- A partition's commit point is its lowest unfinished admitted record: everything admitted
  below it has finished. A record that is slow (or retried) holds its own lane and the commit
  point, never the other lanes.
- The window holds at most `capacity` records (waiting, running, or finished above an
  unfinished one); the loop stops fetching while it is full and resumes at the low-water mark.
- A revoked partition's waiting records are dropped and its offsets forgotten, so nothing is
  committed for it afterwards; its running records become orphans: they keep their slot and
  their lane until they end (a later record of the same key, fetched again after the partition
  comes back, still waits for them), but their end commits nothing.

Pure and synchronous: the consumer loop feeds it fetched records and ended handlers, and asks
what to start, what to commit and whether to pause.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from aiokafka import TopicPartition

R = TypeVar("R")
Lane = tuple[TopicPartition, bytes | None]


@dataclass(eq=False)
class Entry(Generic[R]):
    """One admitted record; `epoch` names the partition state it was admitted under."""

    partition: TopicPartition
    offset: int
    key: bytes | None
    item: R
    epoch: int


@dataclass(eq=False)
class _Partition:
    epoch: int
    # Admitted offsets not yet below the commit point, in offset order; `done` holds the
    # finished ones among them.
    open: deque[int] = field(default_factory=deque)
    done: set[int] = field(default_factory=set)
    last_admitted: int = -1
    commit_at: int | None = None  # the next offset to read, once a prefix has finished
    committed: int | None = None  # the last commit point the loop reported as committed
    running: int = 0


@dataclass(eq=False)
class _Lane(Generic[R]):
    waiting: deque[Entry[R]] = field(default_factory=deque)
    running: Entry[R] | None = None
    # The partition epoch in which a record of this lane was abandoned: nothing later of the
    # lane may run in that epoch.
    blocked: int | None = None


class KeyOrderedWindow(Generic[R]):
    """Per partition the admitted and finished offsets, per lane a FIFO, and the bound."""

    def __init__(self, *, max_in_flight: int, capacity: int | None = None) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        # Larger than the bound, so that records waiting behind their key do not starve it.
        self.capacity = capacity if capacity is not None else 4 * max_in_flight
        if self.capacity < max_in_flight:
            raise ValueError("capacity must be at least max_in_flight")
        self.low_water = self.capacity // 2
        self._partitions: dict[TopicPartition, _Partition] = {}
        self._lanes: dict[Lane, _Lane[R]] = {}
        self._ready: deque[Lane] = deque()  # lanes with a waiting record and none running
        self._closed: set[TopicPartition] = set()
        self._epochs = itertools.count()
        self._in_flight = 0
        self._orphans = 0

    # -- what the loop asks ---------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Return how many records are running (orphans of revoked partitions included)."""
        return self._in_flight

    @property
    def held(self) -> int:
        """Return how many records the window holds: admitted and not yet committable, plus
        the orphans still running."""
        return sum(len(p.open) for p in self._partitions.values()) + self._orphans

    def room(self) -> int:
        """Return how many more records may be fetched now (0 when full)."""
        return max(0, self.capacity - self.held)

    def drained(self) -> bool:
        """True when a paused consumer may fetch again (at or below the low-water mark)."""
        return self.held <= self.low_water

    def held_in(self, partition: TopicPartition) -> int:
        """Return how many admitted records of the partition are not committable yet (still
        to finish, or finished behind one that is): fetched, but not done."""
        p = self._partitions.get(partition)
        return 0 if p is None else len(p.open)

    def running_in(self, partitions: Iterable[TopicPartition]) -> int:
        """Return how many records of these partitions (not orphans) are running."""
        return sum(p.running for tp in partitions if (p := self._partitions.get(tp)))

    def commit_points(self, partitions: Iterable[TopicPartition] | None = None
                      ) -> dict[TopicPartition, int]:
        """Return, per partition whose commit point moved since last committed, the offset to
        commit: its lowest unfinished admitted record (or one past the last, all finished)."""
        wanted = self._partitions if partitions is None else partitions
        points = {}
        for tp in wanted:
            p = self._partitions.get(tp)
            if p is not None and p.commit_at is not None and p.commit_at != p.committed:
                points[tp] = p.commit_at
        return points

    def committed(self, offsets: dict[TopicPartition, int]) -> None:
        """Note that these commit points were committed."""
        for tp, offset in offsets.items():
            if (p := self._partitions.get(tp)) is not None:
                p.committed = offset

    # -- what the loop tells it -----------------------------------------------------------

    def admit(self, partition: TopicPartition, offset: int, key: bytes | None, item: R) -> bool:
        """Take a fetched record into the window; False (ignored) while its partition is
        revoked. An offset at or below the partition's last means the consumer was rewound:
        the partition starts afresh, as after a revoke."""
        if partition in self._closed:
            return False
        p = self._partitions.get(partition)
        if p is not None and offset <= p.last_admitted:
            self._forget(partition)
            p = None
        if p is None:
            p = self._partitions[partition] = _Partition(epoch=next(self._epochs))
        p.open.append(offset)
        p.last_admitted = offset
        entry = Entry(partition, offset, key, item, p.epoch)
        lane_key = (partition, key)
        lane = self._lanes.setdefault(lane_key, _Lane())
        if lane.blocked == p.epoch:
            return True  # held unfinished behind the abandoned record of its key
        lane.waiting.append(entry)
        if lane.running is None and len(lane.waiting) == 1:
            self._ready.append(lane_key)
        return True

    def start(self) -> list[Entry[R]]:
        """Return the records that may start now (marked running): the head of each idle lane,
        oldest lane first, within the bound."""
        started: list[Entry[R]] = []
        while self._ready and self._in_flight < self.max_in_flight:
            lane = self._lanes.get(self._ready.popleft())
            if lane is None or lane.running is not None or not lane.waiting:
                continue  # emptied by a revoke since it became ready
            entry = lane.running = lane.waiting.popleft()
            self._in_flight += 1
            self._partitions[entry.partition].running += 1
            started.append(entry)
        return started

    def finish(self, entry: Entry[R], *, done: bool = True) -> None:
        """A started record ended. `done`: handled (or dead-lettered), so its offset counts as
        finished. Not done (abandoned on shutdown): it stays unfinished, and no later record of
        its lane runs before the partition starts afresh."""
        lane_key = (entry.partition, entry.key)
        lane = self._lanes.get(lane_key)
        if lane is None or lane.running is not entry:
            raise ValueError("this record is not running")
        lane.running = None
        self._in_flight -= 1
        p = self._partitions.get(entry.partition)
        if p is None or p.epoch != entry.epoch:
            self._orphans -= 1
        else:
            p.running -= 1
            if done:
                self._finished(p, entry.offset)
            else:
                lane.waiting.clear()
                lane.blocked = p.epoch
        if lane.waiting:
            self._ready.append(lane_key)
        elif lane.blocked is None:
            del self._lanes[lane_key]

    def revoke(self, partitions: Iterable[TopicPartition]) -> int:
        """Stop these partitions: drop their waiting records, admit nothing more for them until
        assigned again. Their running records go on; return how many were dropped."""
        dropped = 0
        for tp in partitions:
            self._closed.add(tp)
            dropped += self._drop_waiting(tp)
        return dropped

    def forget(self, partitions: Iterable[TopicPartition]) -> int:
        """Forget these partitions' offsets (nothing more is committed for them); return how
        many of their records are still running, now orphans."""
        orphaned = 0
        for tp in partitions:
            self._closed.add(tp)
            orphaned += self._forget(tp)
        return orphaned

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """These partitions are ours again: admit their records."""
        self._closed.difference_update(partitions)

    def close_all(self) -> int:
        """Stop every partition (the loop is stopping); return how many waiting were dropped."""
        return self.revoke(list(self._partitions))

    # -- bookkeeping ----------------------------------------------------------------------

    def _finished(self, p: _Partition, offset: int) -> None:
        p.done.add(offset)
        while p.open and p.open[0] in p.done:
            head = p.open.popleft()
            p.done.discard(head)
            p.commit_at = head + 1

    def _drop_waiting(self, tp: TopicPartition) -> int:
        dropped = 0
        for lane_key in [k for k in self._lanes if k[0] == tp]:
            lane = self._lanes[lane_key]
            dropped += len(lane.waiting)
            lane.waiting.clear()
            if lane.running is None:
                del self._lanes[lane_key]
        return dropped

    def _forget(self, tp: TopicPartition) -> int:
        self._drop_waiting(tp)
        p = self._partitions.pop(tp, None)
        if p is None:
            return 0
        self._orphans += p.running
        return p.running
