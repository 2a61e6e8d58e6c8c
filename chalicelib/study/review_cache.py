"""What a warm function last read or wrote of the sessions and memories its reviews touched, and
of their learners' schedulers, so that a learner's next review in the same function skips the
read before its write.

Neither can make a review inexact: a session's owner, group and start never change (its figures,
which do, are not kept), and a word's memory is only written on the condition that the stored
state is the one it was computed from (chalicelib.storage.review_repository). When another
function wrote the word since, that write is refused and the review reads the memory and
computes again. A scheduler kept here may be older than the stored one (the learner changed it):
the memories it computed record its version, and a write is conditional on the version of the
stored memory too, so once the memories were recomputed with the new settings such a write is
refused and the review reads them, and the scheduler, again. A scheduler is kept
SCHEDULER_SECONDS at most, so a function applies an old one for that long after a change at the
most (to words whose memory the recompute has not reached yet: their version says so). A reset
gives the learner a new owner, so nothing kept for the old one is used. Bounded: the least
recently used entries go first."""
import threading
import time
from collections import OrderedDict
from typing import Dict, Iterable, Optional, Sequence, Tuple

from chalicelib.core.scheduling import MemoryUpdate
from chalicelib.storage.dynamo import Item
from chalicelib.storage.schema import ROUND_REVIEWS

MAX_SESSIONS = 1_000
MAX_MEMORIES = 10_000  # ~300 bytes each
MAX_SCHEDULERS = 1_000  # ~500 bytes each
SCHEDULER_SECONDS = 10.0
SESSION_FIELDS = ("id", "owner", "group_id", "created_at")  # what never changes on a session
NEVER_REVIEWED = None  # a word the owner has no memory of
UNKNOWN = object()  # nothing kept here


class _Bounded:
    def __init__(self, size: int):
        self._size = size
        self._entries: OrderedDict = OrderedDict()

    def get(self, key):
        if key not in self._entries:
            return UNKNOWN
        self._entries.move_to_end(key)
        return self._entries[key]

    def put(self, key, value) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def pop(self, key) -> None:
        self._entries.pop(key, None)


class ReviewCache:
    def __init__(self, sessions: int = MAX_SESSIONS, memories: int = MAX_MEMORIES,
                 clock=time.monotonic):
        self._sessions = _Bounded(sessions)
        self._memories = _Bounded(memories)
        self._schedulers = _Bounded(MAX_SCHEDULERS)  # owner -> (its scheduler item, when read)
        self._clock = clock
        self._lock = threading.Lock()  # the dev server answers from several threads

    def lookup(self, session_id: str, owner: str, word_ids: Iterable[int]
               ) -> Tuple[Optional[Item], Optional[Dict[int, Item]], Optional[Item]]:
        """The session, the owner's memory of the words and their scheduler item, when all are
        known here; else (None, None, None)."""
        with self._lock:
            session = self._sessions.get(session_id)
            states = {id_: self._memories.get((owner, id_)) for id_ in word_ids}
            scheduler = self._schedulers.get(owner)
        if scheduler is not UNKNOWN and self._clock() - scheduler[1] > SCHEDULER_SECONDS:
            scheduler = UNKNOWN
        if session is UNKNOWN or scheduler is UNKNOWN or any(state is UNKNOWN for state in states.values()):
            return None, None, None
        known = {id_: state for id_, state in states.items() if state is not NEVER_REVIEWED}
        return session, known, scheduler[0]

    def remember_read(self, session: Optional[Item], owner: str, word_ids: Iterable[int],
                      stored: Dict[int, Item], scheduler: Item) -> None:
        """What one read found: the session (None: not read), the words' memory, the scheduler."""
        with self._lock:
            if session is not None:
                self._sessions.put(session["id"], {name: session[name] for name in SESSION_FIELDS
                                                   if name in session})
            for id_ in word_ids:
                self._memories.put((owner, id_), stored.get(id_, NEVER_REVIEWED))
            self._schedulers.put(owner, (scheduler, self._clock()))

    def forget_scheduler(self, owner: str) -> None:
        """This function changed the owner's scheduler: its next review reads it."""
        with self._lock:
            self._schedulers.pop(owner)

    def forget(self, owner: str, word_ids: Iterable[int]) -> None:
        """Before a write: until it is known to have landed, the stored state is unknown here."""
        with self._lock:
            for id_ in word_ids:
                self._memories.pop((owner, id_))

    def remember_written(self, owner: str, memories: Sequence[MemoryUpdate],
                         copies: Dict[int, Dict[str, Item]]) -> None:
        """What a write left: each word's state, with the round reviews its item carries."""
        with self._lock:
            for memory in memories:
                carried = {ROUND_REVIEWS: copies[memory.word_id]} if memory.word_id in copies else {}
                state = {"scope": owner, "word_id": memory.word_id, **memory.fields, **carried}
                self._memories.put((owner, memory.word_id), state)
