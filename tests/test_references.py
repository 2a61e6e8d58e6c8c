"""The reference cache at its boundary, with a fake store and clock: what it reads, and when."""
from chalicelib.references import DEFAULT_MISS_TTL_SECONDS, DEFAULT_TTL_SECONDS, ReferenceCache


class FakeStore:
    def __init__(self):
        self.groups = {1: {"id": 1, "name": "Core Verbs"}}
        self.activities = {1: {"id": 1, "name": "Typing Tutor"}}
        self.calls = []

    def get_references(self, wanted):
        group_ids, activity_ids = wanted.get("group", ()), wanted.get("activity", ())
        self.calls.append(("get", sorted(group_ids), sorted(activity_ids)))
        return {"group": {i: self.groups[i] for i in group_ids if i in self.groups},
                "activity": {i: self.activities[i] for i in activity_ids if i in self.activities}}

    def scan_groups(self):
        self.calls.append(("scan", "groups"))
        return list(reversed(self.groups.values()))

    def scan_activities(self):
        self.calls.append(("scan", "activities"))
        return list(self.activities.values())


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_an_unknown_id_is_read_once_per_miss_ttl():
    store, clock = FakeStore(), Clock()
    cache = ReferenceCache(store, clock=clock)

    for _ in range(5):
        assert cache.lookup([9], []) == ({}, {})
    store.groups[9] = {"id": 9, "name": "Core Nouns"}
    assert cache.lookup([9], []) == ({}, {})
    clock.now += DEFAULT_MISS_TTL_SECONDS + 0.01

    assert cache.lookup([9], []) == ({9: store.groups[9]}, {})
    assert store.calls == [("get", [9], []), ("get", [9], [])]


def test_found_ids_are_kept_for_the_ttl_and_only_missing_ones_are_read():
    store, clock = FakeStore(), Clock()
    cache = ReferenceCache(store, clock=clock)
    cache.lookup([1], [1])

    clock.now += DEFAULT_TTL_SECONDS - 1
    assert cache.lookup([1, 2], [1]) == ({1: store.groups[1]}, {1: store.activities[1]})

    assert store.calls == [("get", [1], [1]), ("get", [2], [])]


def test_pages_of_a_list_come_from_one_scan_per_ttl_sorted_by_id():
    store, clock = FakeStore(), Clock()
    store.groups[2] = {"id": 2, "name": "Core Adjectives"}
    cache = ReferenceCache(store, clock=clock)

    assert [g["id"] for g in cache.all_groups()] == [1, 2]
    assert [g["id"] for g in cache.all_groups()] == [1, 2]
    assert cache.lookup([2], []) == ({2: store.groups[2]}, {})  # the scan filled the id cache
    clock.now += DEFAULT_TTL_SECONDS + 0.01
    cache.all_groups()

    assert store.calls == [("scan", "groups"), ("scan", "groups")]
