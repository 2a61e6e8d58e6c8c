"""An in-process cache of the reference data: groups, study activities and words.

A warm Lambda then makes one DynamoDB call per create or review. Found items and whole-table
scans are kept for TTL_SECONDS (a renamed or new item shows within it); ids found missing are
kept for MISS_TTL_SECONDS, so a client repeating an unknown id costs no read per request, while
a group added after a miss works within seconds."""
import threading
import time
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from chalicelib.store import DynamoStore, Item

DEFAULT_TTL_SECONDS = 60.0
DEFAULT_MISS_TTL_SECONDS = 5.0


class ReferenceCache:
    def __init__(
        self,
        store: DynamoStore,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        miss_ttl_seconds: float = DEFAULT_MISS_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._store = store
        self._ttl = ttl_seconds
        self._miss_ttl = miss_ttl_seconds
        self._clock = clock
        # (kind, id) -> (expires, item, or None for an id found missing)
        self._entries: Dict[Tuple[str, int], Tuple[float, Optional[Item]]] = {}
        self._scans: Dict[str, Tuple[float, List[Item]]] = {}
        self._lock = threading.Lock()

    def lookup(
        self, group_ids: Iterable[int], activity_ids: Iterable[int]
    ) -> Tuple[Dict[int, Item], Dict[int, Item]]:
        """Groups and activities by id, read together; ids that do not exist are left out."""
        found = self._lookup({"group": set(group_ids), "activity": set(activity_ids)})
        return found["group"], found["activity"]

    def lookup_words(self, word_ids: Iterable[int]) -> Dict[int, Item]:
        return self._lookup({"word": set(word_ids)})["word"]

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
            fetched = self._store.get_references({kind: ids for kind, ids in unknown.items() if ids})
            with self._lock:
                for kind, ids in unknown.items():
                    for id_ in ids:
                        item = fetched.get(kind, {}).get(id_)
                        expires = now + (self._ttl if item is not None else self._miss_ttl)
                        self._entries[(kind, id_)] = (expires, item)
                        if item is not None:
                            found[kind][id_] = item
        return found

    def all_groups(self) -> List[Item]:
        return self._all("group", self._store.scan_groups)

    def all_activities(self) -> List[Item]:
        return self._all("activity", self._store.scan_activities)

    def all_words(self) -> List[Item]:
        return self._all("word", self._store.scan_words)

    def _all(self, kind: str, scan: Callable[[], List[Item]]) -> List[Item]:
        """Every item of a reference table by id, from one scan per TTL."""
        now = self._clock()
        with self._lock:
            cached = self._scans.get(kind)
        if cached and cached[0] > now:
            return cached[1]
        items = sorted(scan(), key=lambda item: item["id"])
        with self._lock:
            self._scans[kind] = (now + self._ttl, items)
            for item in items:
                self._entries[(kind, item["id"])] = (now + self._ttl, item)
        return items
