"""The lang-portal's dashboard: the newest session, and the learner's figures read from the
aggregates (chalicelib.streams.aggregates), a few small items whatever the history."""
from datetime import UTC, date, datetime, timedelta
from typing import Callable, Iterable, List, Optional

from chalicelib.core.validation import format_timestamp
from chalicelib.learners.reference_cache import ReferenceCache
from chalicelib.storage.schema import SESSIONS_NEWEST, TOTALS, partition
from chalicelib.storage.store import Store
from chalicelib.study.representation import word_counts

ACTIVE_DAYS = 30  # a group is active with a session on one of the last 30 UTC days, today included


def current_streak(days: Iterable[str], today: date) -> int:
    """Consecutive UTC days with a session, ending today, or yesterday while today has none."""
    present = set(days)
    day = today if today.isoformat() in present else today - timedelta(days=1)
    length = 0
    while day.isoformat() in present:
        length += 1
        day -= timedelta(days=1)
    return length


class Dashboard:
    def __init__(self, store: Store, references: ReferenceCache, owner_of: Callable[[str], str],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        """``owner_of(learner)``: the owner of the learner's current history."""
        self._store = store
        self._references = references
        self._owner_of = owner_of
        self._clock = clock

    def stats(self, learner: str) -> dict:
        owner = self._owner_of(learner)
        totals = self._store.aggregates.aggregate(owner, TOTALS)
        groups = self._store.aggregates.aggregates(owner, "group#")
        days = [day for item in self._store.aggregates.aggregates(owner, "days#") for day in item["days"]]
        today = self._clock().astimezone(UTC).date()
        since = (today - timedelta(days=ACTIVE_DAYS - 1)).isoformat()
        reviews = totals.get("reviews", 0)
        return {
            "total_vocabulary": len(self._references.snapshot().words),
            "total_words_studied": totals.get("words_studied", 0),
            "mastered_words": totals.get("mastered", 0),
            "success_rate": round(totals.get("correct", 0) / reviews, 4) if reviews else 0,
            "total_sessions": totals.get("sessions", 0),
            "active_groups": sum(1 for group in groups if group.get("last_day", "") >= since),
            "current_streak": current_streak(days, today),
            # one Query of the owner's memories (core.scheduling): ~18 reviewed words a read unit
            "words_due": words_due(self._store.memories.every_memory(owner), format_timestamp(self._clock())),
        }

    def recent_session(self, learner: str) -> Optional[dict]:
        """The newest session by created_at, with its review counts; None before the first."""
        newest = partition(SESSIONS_NEWEST, self._owner_of(learner))
        keys, _ = self._store.sessions.query_sessions(SESSIONS_NEWEST, newest, 1, None)
        sessions = self._store.sessions.get_sessions([key["id"] for key in keys])
        if not sessions:
            return None
        session = sessions[0]
        _, activities = self._references.lookup([], [session["study_activity_id"]])
        activity = activities.get(session["study_activity_id"])
        counts = word_counts(session).values()
        correct, wrong = (sum(count.get(answer, 0) for count in counts) for answer in (True, False))
        return {"id": session["id"], "group_id": session["group_id"],
                "activity_name": activity["name"] if activity else None,
                "created_at": session["created_at"], "correct_count": correct, "wrong_count": wrong}


def words_due(memories: List[dict], now: str) -> int:
    return sum(1 for memory in memories if memory["due"] <= now)
