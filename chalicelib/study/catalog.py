"""The lang-portal's words and groups pages: reference data (cached in the function) with the
learner's counts from the aggregates, sorted and paged 10 at a time, ties broken by id."""
import math
from typing import Callable, Dict, List, Tuple

from chalicelib.core.errors import NotFound
from chalicelib.core.validation import (
    DEFAULT_PER_PAGE,
    NumberedPaging,
    SortedPaging,
    parse_listed_id,
    parse_sorted_paging,
)
from chalicelib.learners.reference_cache import ReferenceCache, Snapshot
from chalicelib.storage.schema import word_item
from chalicelib.storage.store import Store

WORD_SORT_KEYS = ("kanji", "romaji", "english", "correct_count", "wrong_count")
GROUP_SORT_KEYS = ("name", "word_count")
SESSION_SORT_KEYS = ("start_time", "id", "activity_name", "group_name", "end_time", "review_items_count")
SESSION_SORT_ALIASES = {"startTime": "start_time"}  # what the frontend's group page sends first
# A group's sessions in another order than by start time are the newest this many, sorted: a
# page reads this many sessions at most, whatever the history (there is no index by those).
SORTED_SESSIONS_WINDOW = 100


def _sortable(value) -> Tuple[bool, object]:
    return (value is None, value if value is not None else 0)


def sorted_page(items: List[dict], paging: SortedPaging, sort_key: str) -> Tuple[List[dict], int]:
    """One page of ``items`` by ``sort_key`` then id, and the number of pages."""
    ordered = sorted(items, key=lambda item: (_sortable(item[sort_key]), item["id"]),
                     reverse=paging.descending)
    return ordered[paging.offset:paging.offset + DEFAULT_PER_PAGE], math.ceil(len(items) / DEFAULT_PER_PAGE)


class Catalog:
    def __init__(self, store: Store, references: ReferenceCache, owner_of: Callable[[str], str],
                 numbered_group_sessions: Callable[[str, int, NumberedPaging, bool], dict],
                 recent_group_sessions: Callable[[str, int, int], List[dict]]):
        """``owner_of(learner)``: the owner of the learner's current history;
        ``numbered_group_sessions(owner, group, paging, newest_first)``: a numbered page of the
        owner's sessions of a group by start time; ``recent_group_sessions(owner, group, n)``:
        the newest ``n`` of them."""
        self._store = store
        self._references = references
        self._owner_of = owner_of
        self._numbered_group_sessions = numbered_group_sessions
        self._recent_group_sessions = recent_group_sessions

    def _all_counts(self, learner: str) -> Dict[str, dict]:
        """The learner's counts of every reviewed word, by aggregate item name."""
        counts = self._store.aggregates.aggregates(self._owner_of(learner), "word#")
        return {item["item"]: item for item in counts}

    @staticmethod
    def _words(words: List[dict], counts: Dict[str, dict], snapshot: Snapshot) -> List[dict]:
        return [{
            "id": word["id"], "kanji": word["kanji"], "romaji": word["romaji"], "english": word["english"],
            "correct_count": counts.get(word_item(word["id"]), {}).get("correct", 0),
            "wrong_count": counts.get(word_item(word["id"]), {}).get("wrong", 0),
            "groups": [{"id": id_, "name": snapshot.groups[id_]["name"]} for id_ in word.get("group_ids", [])
                       if id_ in snapshot.groups],
        } for word in words]

    def words_page(self, learner: str, query: dict) -> dict:
        paging = parse_sorted_paging(query, WORD_SORT_KEYS)
        snapshot = self._references.snapshot()
        words = self._words(list(snapshot.words.values()), self._all_counts(learner), snapshot)
        page, total_pages = sorted_page(words, paging, paging.sort_by)
        return {"words": page, "total_pages": total_pages, "current_page": paging.page,
                "total_words": len(words)}

    def word(self, learner: str, word_id: str) -> dict:
        id_ = parse_listed_id(word_id)
        snapshot = self._references.snapshot(word_ids=[id_] if id_ else [])
        if id_ not in snapshot.words:
            raise NotFound(f"Word {word_id} does not exist.")
        counts = {word_item(id_): self._store.aggregates.aggregate(  # one item
            self._owner_of(learner), word_item(id_))}
        return {"word": self._words([snapshot.words[id_]], counts, snapshot)[0]}

    @staticmethod
    def _group(group: dict, snapshot: Snapshot) -> dict:
        return {"id": group["id"], "group_name": group["name"],
                "word_count": len(snapshot.words_of(group["id"]))}

    def groups_page(self, query: dict) -> dict:
        paging = parse_sorted_paging(query, GROUP_SORT_KEYS)
        key = "group_name" if paging.sort_by == "name" else paging.sort_by
        snapshot = self._references.snapshot()
        page, total_pages = sorted_page([self._group(group, snapshot) for group in snapshot.groups.values()],
                                        paging, key)
        return {"groups": page, "total_pages": total_pages, "current_page": paging.page}

    def _showing(self, group_id: str) -> Tuple[int, Snapshot]:
        """The group's id and the snapshot that shows it; NotFound if none does."""
        id_ = parse_listed_id(group_id)
        return id_, self._references.showing_group(id_, as_given=group_id)

    def group(self, group_id: str) -> dict:
        id_, snapshot = self._showing(group_id)
        return self._group(snapshot.groups[id_], snapshot)

    def group_words_page(self, learner: str, group_id: str, query: dict) -> dict:
        id_, snapshot = self._showing(group_id)
        paging = parse_sorted_paging(query, WORD_SORT_KEYS)
        words = self._words(snapshot.words_of(id_), self._all_counts(learner), snapshot)
        page, total_pages = sorted_page(words, paging, paging.sort_by)
        return {"words": page, "total_pages": total_pages, "current_page": paging.page}

    def group_sessions_page(self, learner: str, group_id: str, query: dict) -> dict:
        """By start time, either way, a numbered page of the group's index: one page of items
        whatever the history. Any other order sorts the group's newest SORTED_SESSIONS_WINDOW
        sessions (ten pages; later pages are empty)."""
        id_, _ = self._showing(group_id)
        paging = parse_sorted_paging(query, SESSION_SORT_KEYS, SESSION_SORT_ALIASES)
        owner = self._owner_of(learner)
        if paging.sort_by == "start_time":
            page = NumberedPaging(paging.page, DEFAULT_PER_PAGE)
            numbered = self._numbered_group_sessions(owner, id_, page, paging.descending)
            return {"study_sessions": numbered["items"], "total_pages": numbered["total_pages"],
                    "current_page": paging.page}
        recent = self._recent_group_sessions(owner, id_, SORTED_SESSIONS_WINDOW)
        page, total_pages = sorted_page(recent, paging, paging.sort_by)
        return {"study_sessions": page, "total_pages": total_pages, "current_page": paging.page}

