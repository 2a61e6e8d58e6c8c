"""The reference cache at its boundary, with a fake store and clock: what it reads, and when."""
import pytest

from chalicelib.core.errors import NotFound
from chalicelib.learners.reference_cache import DEFAULT_MISS_TTL_SECONDS, DEFAULT_TTL_SECONDS, ReferenceCache
from chalicelib.storage.schema import GROUP_IMPORTING


class FakeStore:
    def __init__(self):
        self.groups = {1: {"id": 1, "name": "Core Verbs"}}
        self.activities = {1: {"id": 1, "name": "Typing Tutor"}}
        self.words = {1: {"id": 1, "kanji": "食べる", "group_ids": [1]}}
        self.calls = []

    def get_references(self, wanted):
        self.calls.append(("get", {kind: sorted(ids) for kind, ids in wanted.items()}))
        stored = {"group": self.groups, "activity": self.activities, "word": self.words}
        return {kind: {i: stored[kind][i] for i in ids if i in stored[kind]} for kind, ids in wanted.items()}

    def scan_groups(self):
        self.calls.append(("scan", "groups"))
        return list(reversed(self.groups.values()))

    def scan_words(self):
        self.calls.append(("scan", "words"))
        return list(reversed(self.words.values()))

    def scan_activities(self):
        self.calls.append(("scan", "activities"))
        return list(self.activities.values())


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def store():
    return FakeStore()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def cache(store, clock):
    return ReferenceCache(store, clock=clock)


def test_an_unknown_id_is_read_once_per_miss_ttl(store, clock, cache):
    for _ in range(5):
        assert cache.lookup([9], []) == ({}, {})
    store.groups[9] = {"id": 9, "name": "Core Nouns"}
    assert cache.lookup([9], []) == ({}, {})
    clock.now += DEFAULT_MISS_TTL_SECONDS + 0.01

    assert cache.lookup([9], []) == ({9: store.groups[9]}, {})
    assert store.calls == [("get", {"group": [9]})] * 2


def test_found_ids_are_kept_for_the_ttl_and_only_missing_ones_are_read(store, clock, cache):
    cache.lookup([1], [1])

    clock.now += DEFAULT_TTL_SECONDS - 1
    assert cache.lookup([1, 2], [1]) == ({1: store.groups[1]}, {1: store.activities[1]})

    assert store.calls == [("get", {"group": [1], "activity": [1]}), ("get", {"group": [2]})]


def test_groups_and_words_are_one_snapshot_read_groups_first_and_kept_for_the_ttl(store, clock, cache):
    store.groups[2] = {"id": 2, "name": "Core Adjectives"}
    store.words[2] = {"id": 2, "kanji": "高い", "group_ids": [2]}

    first = cache.snapshot()
    clock.now += DEFAULT_TTL_SECONDS - 1
    store.words[3] = {"id": 3, "kanji": "安い", "group_ids": [2]}
    again = cache.snapshot()
    clock.now += 1
    later = cache.snapshot()

    assert again is first and list(first.groups) == [1, 2] and list(first.words) == [1, 2]
    assert [word["id"] for word in first.words_of(2)] == [2]
    assert [word["id"] for word in later.words_of(2)] == [2, 3]
    assert store.calls == [("scan", "groups"), ("scan", "words")] * 2


def test_an_id_the_snapshot_lacks_reads_groups_and_words_again_at_most_once_per_miss_ttl(store, clock, cache):
    cache.snapshot()
    store.groups[2] = {"id": 2, "name": "Core Nouns"}
    store.words[2] = {"id": 2, "kanji": "本", "group_ids": [2]}

    with pytest.raises(NotFound):
        cache.showing_group(2)  # the snapshot is newer than the miss TTL: not read again
    clock.now += DEFAULT_MISS_TTL_SECONDS
    shown = cache.showing_group(2)
    for _ in range(3):
        with pytest.raises(NotFound):
            cache.showing_group(3)

    assert [word["id"] for word in shown.words_of(2)] == [2]
    assert cache.lookup_words([2]) == {2: store.words[2]}
    assert store.calls == [("scan", "groups"), ("scan", "words")] * 2


def test_a_group_being_imported_is_not_shown_by_id_nor_in_the_snapshot(store, clock, cache):
    store.groups[2] = {"id": 2, "name": "Core Nouns", GROUP_IMPORTING: True}
    store.words[2] = {"id": 2, "kanji": "本", "group_ids": [2]}

    by_id, _ = cache.lookup([2], [])
    snapshot = cache.snapshot()
    del store.groups[2][GROUP_IMPORTING]
    clock.now += DEFAULT_MISS_TTL_SECONDS

    assert by_id == {} and list(snapshot.groups) == [1]
    assert cache.showing_group(2).groups[2] == store.groups[2]


def test_once_a_snapshot_is_taken_lookups_by_id_answer_from_it(store, clock, cache):
    cache.lookup_words([1])  # a cold review: the word alone
    store.words[1] = {**store.words[1], "group_ids": [1, 2]}  # it joins a group
    store.groups[2] = {"id": 2, "name": "Core Nouns"}

    snapshot = cache.snapshot()
    word = cache.lookup_words([1])[1]
    groups, activities = cache.lookup([2], [1])

    assert word is snapshot.words[1] and word["group_ids"] == [1, 2]
    assert groups == {2: store.groups[2]} and activities == {1: store.activities[1]}
    assert store.calls == [("get", {"word": [1]}), ("scan", "groups"), ("scan", "words"),
                           ("get", {"activity": [1]})]


def test_activities_come_from_one_scan_per_ttl_sorted_by_id(store, clock, cache):
    store.activities[2] = {"id": 2, "name": "Flashcards"}

    assert [a["id"] for a in cache.all_activities()] == [1, 2]
    assert [a["id"] for a in cache.all_activities()] == [1, 2]
    assert cache.lookup([], [2]) == ({}, {2: store.activities[2]})  # the scan filled the id cache
    clock.now += DEFAULT_TTL_SECONDS + 0.01
    cache.all_activities()

    assert store.calls == [("scan", "activities"), ("scan", "activities")]
