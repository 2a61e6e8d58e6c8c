"""An in-process cache of the reference data: groups, study activities and words.

Groups and words are one snapshot, read together (a consistent Scan of the groups, then one of
the words) and kept for TTL_SECONDS: every view of a group with its words, of a word with its
groups, or of a group's due words takes one snapshot, so a group's word_count and words always
agree. A group being imported is not shown (schema.GROUP_IMPORTING): it is revealed after its
words are stored, so the snapshot that first holds it holds its words. An id the snapshot lacks
has it read again if it is older than MISS_TTL_SECONDS: a group or word added since is found by
the first request that names it after that, and unknown ids cost at most one read of the
snapshot per MISS_TTL_SECONDS.

A lookup by id on a function with no fresh snapshot (a cold create or review) reads only those
ids: one BatchGetItem, found ids kept TTL_SECONDS, missing ones MISS_TTL_SECONDS; a snapshot
replaces them. Activities are kept by id and as one scan, as found."""
import threading
import time
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

from chalicelib.core.errors import NotFound
from chalicelib.storage.dynamo import Item
from chalicelib.storage.reference_repository import ReferenceRepository
from chalicelib.storage.schema import GROUP_IMPORTING

DEFAULT_TTL_SECONDS = 60.0
DEFAULT_MISS_TTL_SECONDS = 5.0


def is_shown(group: Item) -> bool:
    return GROUP_IMPORTING not in group


def _by_id(items: Iterable[Item]) -> Dict[int, Item]:
    return {item["id"]: item for item in sorted(items, key=lambda item: item["id"])}


class Snapshot(NamedTuple):
    """The groups shown and every word, by id, as read at ``taken``."""
    taken: float
    groups: Dict[int, Item]
    words: Dict[int, Item]
    members: Dict[int, List[Item]]  # group id -> the words in it, by id

    @classmethod
    def of(cls, taken: float, groups: List[Item], words: List[Item]) -> "Snapshot":
        by_id = _by_id(words)
        members: Dict[int, List[Item]] = {}
        for word in by_id.values():
            for group_id in word.get("group_ids", []):
                members.setdefault(group_id, []).append(word)
        return cls(taken, _by_id(group for group in groups if is_shown(group)), by_id, members)

    def words_of(self, group_id: int) -> List[Item]:
        return self.members.get(group_id, [])

    def lacks(self, group_ids: Iterable[int], word_ids: Iterable[int]) -> bool:
        return any(id_ not in self.groups for id_ in group_ids) or any(
            id_ not in self.words for id_ in word_ids)


class ReferenceCache:
    def __init__(
        self,
        repository: ReferenceRepository,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        miss_ttl_seconds: float = DEFAULT_MISS_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._repository = repository
        self._ttl = ttl_seconds
        self._miss_ttl = miss_ttl_seconds
        self._clock = clock
        self._snapshot: Optional[Snapshot] = None
        # (kind, id) -> (expires, item, or None for an id found missing)
        self._entries: Dict[Tuple[str, int], Tuple[float, Optional[Item]]] = {}
        self._activity_scan: Optional[Tuple[float, List[Item]]] = None
        self._lock = threading.Lock()

    def snapshot(self, group_ids: Iterable[int] = (), word_ids: Iterable[int] = ()) -> Snapshot:
        """The groups and words, read again if the snapshot is older than the TTL, or older
        than the miss TTL and lacking one of these ids."""
        now, current = self._clock(), self._snapshot
        if current is None or current.taken + self._ttl <= now or (
                current.taken + self._miss_ttl <= now and current.lacks(group_ids, word_ids)):
            # groups first: a group revealed by the time they are read has its words stored
            current = Snapshot.of(now, self._repository.scan_groups(), self._repository.scan_words())
            with self._lock:
                self._snapshot = current
                self._entries = {key: entry for key, entry in self._entries.items() if key[0] == "activity"}
        return current

    def showing_group(self, group_id: Optional[int], as_given: Optional[str] = None) -> Snapshot:
        """The snapshot, read again as ``snapshot`` does if it lacks the group; NotFound, naming
        the group as the path gave it, if it does not show it (an id of None names nothing)."""
        snapshot = self.snapshot(group_ids=[group_id] if group_id is not None else [])
        if group_id not in snapshot.groups:
            raise NotFound(f"Group {as_given or group_id} does not exist.")
        return snapshot

    def _fresh_snapshot(self) -> Optional[Snapshot]:
        current = self._snapshot
        return current if current is not None and current.taken + self._ttl > self._clock() else None

    def lookup(
        self, group_ids: Iterable[int], activity_ids: Iterable[int]
    ) -> Tuple[Dict[int, Item], Dict[int, Item]]:
        """Groups and activities by id, read together; ids that do not exist are left out."""
        group_ids, activity_ids = set(group_ids), set(activity_ids)
        if self._fresh_snapshot() is None:
            found = self._lookup({"group": group_ids, "activity": activity_ids})
            return found["group"], found["activity"]
        snapshot = self.snapshot(group_ids=group_ids)
        groups = {id_: snapshot.groups[id_] for id_ in group_ids if id_ in snapshot.groups}
        return groups, self._lookup({"activity": activity_ids})["activity"]

    def lookup_words(self, word_ids: Iterable[int]) -> Dict[int, Item]:
        word_ids = set(word_ids)
        if self._fresh_snapshot() is None:
            return self._lookup({"word": word_ids})["word"]
        snapshot = self.snapshot(word_ids=word_ids)
        return {id_: snapshot.words[id_] for id_ in word_ids if id_ in snapshot.words}

    def _lookup(self, wanted: Dict[str, set]) -> Dict[str, Dict[int, Item]]:
        now = self._clock()
        found: Dict[str, Dict[int, Item]] = {kind: {} for kind in wanted}
        unknown: Dict[str, set] = {kind: set() for kind in wanted}
        with self._lock:
            for kind, ids in wanted.items():
                for id_ in ids:
                    entry = self._entries.get((kind, id_))
                    if entry is None or entry[0] <= now:
                        unknown[kind].add(id_)
                    elif entry[1] is not None:
                        found[kind][id_] = entry[1]
        if any(unknown.values()):
            fetched = self._repository.get_references({kind: ids for kind, ids in unknown.items() if ids})
            with self._lock:
                for kind, ids in unknown.items():
                    for id_ in ids:
                        item = fetched.get(kind, {}).get(id_)
                        if kind == "group" and item is not None and not is_shown(item):
                            item = None
                        expires = now + (self._ttl if item is not None else self._miss_ttl)
                        self._entries[(kind, id_)] = (expires, item)
                        if item is not None:
                            found[kind][id_] = item
        return found

    def all_activities(self) -> List[Item]:
        """Every study activity by id, from one scan per TTL."""
        now = self._clock()
        cached = self._activity_scan
        if cached and cached[0] > now:
            return cached[1]
        items = sorted(self._repository.scan_activities(), key=lambda item: item["id"])
        with self._lock:
            self._activity_scan = (now + self._ttl, items)
            for item in items:
                self._entries[("activity", item["id"])] = (now + self._ttl, item)
        return items
