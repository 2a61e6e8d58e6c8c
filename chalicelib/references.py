"""An in-process cache of groups and study activities already found.

A warm Lambda then makes one DynamoDB call per create. Only hits are cached, so
a new group or activity works at once; a renamed one shows within the TTL."""
import threading
import time
from typing import Callable, Dict, Iterable, Tuple

from chalicelib.store import DynamoStore, Item

DEFAULT_TTL_SECONDS = 60.0


class ReferenceCache:
    def __init__(
        self,
        store: DynamoStore,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: Dict[Tuple[str, int], Tuple[float, Item]] = {}
        self._lock = threading.Lock()

    def lookup(
        self, group_ids: Iterable[int], activity_ids: Iterable[int]
    ) -> Tuple[Dict[int, Item], Dict[int, Item]]:
        """Groups and activities by id; ids that do not exist are left out."""
        now = self._clock()
        wanted = {"group": set(group_ids), "activity": set(activity_ids)}
        found: Dict[str, Dict[int, Item]] = {"group": {}, "activity": {}}
        with self._lock:
            for kind, ids in wanted.items():
                for id_ in ids:
                    entry = self._entries.get((kind, id_))
                    if entry and entry[0] > now:
                        found[kind][id_] = entry[1]
        missing = {kind: ids - found[kind].keys() for kind, ids in wanted.items()}
        if missing["group"] or missing["activity"]:
            groups, activities = self._store.get_references(missing["group"], missing["activity"])
            with self._lock:
                for kind, items in (("group", groups), ("activity", activities)):
                    for id_, item in items.items():
                        self._entries[(kind, id_)] = (now + self._ttl, item)
                        found[kind][id_] = item
        return found["group"], found["activity"]
