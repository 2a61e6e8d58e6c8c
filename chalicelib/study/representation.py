"""The JSON shapes the lang-portal frontend reads, built from stored items."""
import math
from typing import Dict, Optional

from chalicelib.core.scheduling import snapshot_json
from chalicelib.storage.dynamo import Item
from chalicelib.storage.schema import WORD_COUNTER_PREFIXES


def session_json(session: Item, group: Optional[Item], activity: Optional[Item]) -> dict:
    return {
        "id": session["id"],
        "group_id": session["group_id"],
        "group_name": group["name"] if group else None,
        "activity_id": session["study_activity_id"],
        "activity_name": activity["name"] if activity else None,
        "start_time": session["created_at"],
        "end_time": session.get("end_time", session["created_at"]),
        "review_items_count": session.get("review_items_count", 0),
    }


def review_json(review: Item) -> dict:
    """A review, and what it did to the memory of its word (None for one stored before that)."""
    shown = {name: review[name] for name in ("id", "study_session_id", "word_id", "correct", "created_at")}
    return {**shown, "memory": snapshot_json(review)}


def word_json(word: Item) -> dict:
    return {name: word[name] for name in ("id", "kanji", "romaji", "english")}


def reviewed_word_json(word_id: int, word: Optional[Item], counts: Dict[bool, int]) -> dict:
    """A word of the session page; a word deleted since its review keeps its counts."""
    shown = word_json(word) if word else {"id": word_id, "kanji": None, "romaji": None, "english": None}
    return {**shown, "correct_count": counts.get(True, 0), "wrong_count": counts.get(False, 0)}


def group_json(group: Item) -> dict:
    return {"id": group["id"], "name": group["name"]}


def activity_json(activity: Item) -> dict:
    return {
        "id": activity["id"],
        "title": activity["name"],
        "launch_url": activity.get("url"),
        "preview_url": activity.get("preview_url"),
    }


def page_json(items: list, next_cursor: Optional[str]) -> Dict[str, object]:
    return {"items": items, "next_cursor": next_cursor}


def numbered_page_json(total: int, paging) -> Dict[str, int]:
    """The lang-portal's page fields; a page past the end has the same totals."""
    return {"total": total, "page": paging.page, "per_page": paging.per_page,
            "total_pages": math.ceil(total / paging.per_page)}


def word_counts(session: dict) -> Dict[int, Dict[bool, int]]:
    """Per reviewed word, its correct (True) and wrong (False) counts, from the session item."""
    counts: Dict[int, Dict[bool, int]] = {}
    for name, value in session.items():
        for correct, prefix in WORD_COUNTER_PREFIXES.items():
            if name.startswith(prefix) and name[len(prefix):].isdigit():
                counts.setdefault(int(name[len(prefix):]), {})[correct] = value
    return counts
