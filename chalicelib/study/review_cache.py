"""What a warm function last read or wrote of the sessions and memories its reviews touched, so
that a learner's next review in the same function skips the read before its write.

Neither can make a review inexact: a session's owner, group and start never change (its figures,
which do, are not kept), and a word's memory is only written on the condition that the stored
state is the one it was computed from (chalicelib.storage.review_repository). When another
function wrote the word since, that write is refused and the review reads the memory and
computes again. A reset gives the learner a new owner, so nothing kept for the old one is used.
Bounded: the least recently used entries go first."""
import threading
from collections import OrderedDict
from typing import Dict, Iterable, Optional, Sequence, Tuple

from chalicelib.core.scheduling import MemoryUpdate
from chalicelib.storage.dynamo import Item

MAX_SESSIONS = 1_000
MAX_MEMORIES = 10_000  # ~300 bytes each
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
    def __init__(self, sessions: int = MAX_SESSIONS, memories: int = MAX_MEMORIES):
        self._sessions = _Bounded(sessions)
        self._memories = _Bounded(memories)
        self._lock = threading.Lock()  # the dev server answers from several threads

    def lookup(self, session_id: str, owner: str, word_ids: Iterable[int]
               ) -> Tuple[Optional[Item], Optional[Dict[int, Item]]]:
        """The session and the owner's memory of the words, when all are known here; else
        (None, None)."""
        with self._lock:
            session = self._sessions.get(session_id)
            states = {id_: self._memories.get((owner, id_)) for id_ in word_ids}
        if session is UNKNOWN or any(state is UNKNOWN for state in states.values()):
            return None, None
        return session, {id_: state for id_, state in states.items() if state is not NEVER_REVIEWED}

    def remember_read(self, session: Optional[Item], owner: str, word_ids: Iterable[int],
                      stored: Dict[int, Item]) -> None:
        with self._lock:
            if session is not None:
                self._sessions.put(session["id"], {name: session[name] for name in SESSION_FIELDS
                                                   if name in session})
            for id_ in word_ids:
                self._memories.put((owner, id_), stored.get(id_, NEVER_REVIEWED))

    def forget(self, owner: str, word_ids: Iterable[int]) -> None:
        """Before a write: until it is known to have landed, the stored state is unknown here."""
        with self._lock:
            for id_ in word_ids:
                self._memories.pop((owner, id_))

    def remember_written(self, owner: str, memories: Sequence[MemoryUpdate]) -> None:
        with self._lock:
            for memory in memories:
                self._memories.put((owner, memory.word_id), {"word_id": memory.word_id, **memory.fields})
