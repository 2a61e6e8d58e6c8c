"""What a learner should study now: the words of a group that are due (their memory's `due` has
passed, chalicelib.core.scheduling), the most overdue first, then the words never reviewed, by id.

A page reads the learner's memory of every word they reviewed and their scheduler (one Query of
their partition of the memories table, ~18 words a read unit) and keeps the group's: its cost is
bounded by the learner's reviewed words, not by their reviews. The group's words come from the
reference cache."""
from datetime import datetime
from typing import Callable, List

from chalicelib.core import scheduling
from chalicelib.core.errors import SESSION_NOT_FOUND, NotFound, ValidationFailed
from chalicelib.core.pagination import (
    INVALID_CURSOR,
    a_stored_time,
    an_id,
    decode_cursor,
    encode_cursor,
    exactly,
)
from chalicelib.core.validation import format_timestamp, is_plausible_session_id, parse_limit, parse_path_id
from chalicelib.learners.reference_cache import ReferenceCache
from chalicelib.storage.dynamo import Item
from chalicelib.storage.store import Store
from chalicelib.study.representation import page_json, word_json

DUE, NEW = "due", "new"  # a cursor's phase: among the due words, or the new ones
NO_DUE = "-"  # a new word's cursor has no due
# [phase, due, word id] of the page's last word
CURSOR_SHAPES = ((exactly(DUE), a_stored_time, an_id), (exactly(NEW), exactly(NO_DUE), an_id))


class DueWords:
    def __init__(self, store: Store, references: ReferenceCache, owner_of: Callable[[str], str],
                 clock: Callable[[], datetime]):
        """``owner_of(learner)``: the owner of the learner's current history."""
        self._store = store
        self._references = references
        self._owner_of = owner_of
        self._clock = clock

    def for_group(self, learner: str, group_id: str, query: dict) -> dict:
        id_ = parse_path_id(group_id, "group id")
        words = self._references.showing_group(id_).words_of(id_)
        return self._page(self._owner_of(learner), id_, words, query)

    def for_session(self, learner: str, session_id: str, query: dict) -> dict:
        """The due words of the session's group: what an activity launched with it asks next."""
        owner = self._owner_of(learner)
        plausible = is_plausible_session_id(session_id)
        session = self._store.sessions.get_session(session_id) if plausible else None
        if session is None or session.get("owner") != owner:
            raise NotFound(SESSION_NOT_FOUND)
        group_id = session["group_id"]
        words = self._references.snapshot(group_ids=[group_id]).words_of(group_id)
        return self._page(session["owner"], group_id, words, query)

    def _page(self, owner: str, group_id: int, group_words: List[Item], query: dict) -> dict:
        limit, list_name = parse_limit(query.get("limit")), f"due-words:{group_id}"
        after = decode_cursor(query.get("cursor"), list_name, *CURSOR_SHAPES)
        now = self._clock()
        at = format_timestamp(now)
        if after and after[0] == DUE and after[1] > at:
            raise ValidationFailed(INVALID_CURSOR)  # not a due word's position
        words = {word["id"]: word for word in group_words}
        scheduler, every_memory = self._store.memories.scheduler_and_every_memory(owner)
        settings = scheduling.settings_of(scheduler)
        memories = {memory["word_id"]: memory for memory in every_memory
                    if memory["word_id"] in words}  # a word since taken out of the group is not listed
        fresh = [word for id_, word in sorted(words.items()) if id_ not in memories]
        due: List[Item] = []
        if after is None or after[0] == DUE:
            due = sorted((memory for memory in memories.values() if memory["due"] <= at
                          and (after is None or (memory["due"], memory["word_id"]) > (after[1], after[2]))),
                         key=lambda memory: (memory["due"], memory["word_id"]))
        else:
            fresh = [word for word in fresh if word["id"] > after[2]]
        shown_due = due[:limit]
        items = [_due_json(words[memory["word_id"]], memory, now, settings) for memory in shown_due]
        shown_new = fresh[:limit - len(items)]
        items += [{**word_json(word), "state": scheduling.NEW, "due": None, "retrievability": None}
                  for word in shown_new]
        if len(due) > limit or (not shown_new and fresh):  # due words go on, or fill the page
            last = shown_due[-1]
            return page_json(items, encode_cursor(list_name, [DUE, last["due"], last["word_id"]]))
        more = len(fresh) > len(shown_new)
        return page_json(items, encode_cursor(list_name, [NEW, NO_DUE, shown_new[-1]["id"]])
                         if more else None)


def _due_json(word: Item, memory: Item, now: datetime, settings: scheduling.SchedulerSettings) -> dict:
    return {**word_json(word), "state": memory["state"], "due": memory["due"],
            "retrievability": scheduling.retrievability(scheduling.card_fields(memory), now, settings)}

