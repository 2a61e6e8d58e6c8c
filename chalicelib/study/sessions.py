"""Use cases of study sessions: create, read one, list them (by cursor or page number), and
reset the learner's history."""
import uuid
from datetime import UTC, datetime
from typing import Callable, Optional, Tuple

from chalicelib.core.errors import SESSION_NOT_FOUND, NotFound
from chalicelib.core.pagination import a_session_id, a_stored_time, decode_cursor, encode_cursor
from chalicelib.core.repeats import SESSION_NAMESPACE, keyed_id, payload_fingerprint, resolve_clash
from chalicelib.core.validation import (
    NumberedPaging,
    format_timestamp,
    is_plausible_session_id,
    parse_idempotency_key,
    parse_new_session,
    parse_numbered_paging,
    parse_paging,
)
from chalicelib.learners.histories import Histories
from chalicelib.learners.reference_cache import ReferenceCache
from chalicelib.storage.schema import (
    SESSIONS_BY_ACTIVITY,
    SESSIONS_BY_GROUP,
    SESSIONS_NEWEST,
    TOTALS,
    Index,
    activity_item,
    group_item,
    index_keys,
    partition,
)
from chalicelib.storage.session_repository import SessionExists
from chalicelib.storage.store import Store
from chalicelib.study.reference_data import ReferenceData
from chalicelib.study.representation import (
    numbered_page_json,
    page_json,
    reviewed_word_json,
    session_json,
    word_counts,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def named_sessions(references: ReferenceCache, sessions: list) -> list:
    """Sessions as JSON, with group and activity names read once for all of them."""
    groups, activities = references.lookup(
        {s["group_id"] for s in sessions}, {s["study_activity_id"] for s in sessions}
    )
    return [
        session_json(s, groups.get(s["group_id"]), activities.get(s["study_activity_id"]))
        for s in sessions
    ]


class Sessions:
    def __init__(self, store: Store, references: ReferenceCache, reference_data: ReferenceData,
                 histories: Histories, clock: Callable[[], datetime] = utc_now):
        self._store = store
        self._references = references
        self._reference_data = reference_data
        self._histories = histories
        self._clock = clock

    def reset(self, learner: str) -> dict:
        return self._histories.reset(learner)

    def create(self, learner: str, body, idempotency_key: Optional[str]) -> Tuple[dict, bool]:
        """The new session's JSON, and whether it was a replay of an earlier create."""
        key = parse_idempotency_key(idempotency_key)
        now = self._clock()
        new = parse_new_session(body, now)
        groups, activities = self._references.lookup([new.group_id], [new.study_activity_id])
        absent = []
        if new.group_id not in groups:
            absent.append(f"Group {new.group_id} does not exist.")
        if new.study_activity_id not in activities:
            absent.append(f"Study activity {new.study_activity_id} does not exist.")
        if absent:
            raise NotFound(" ".join(absent))
        owner = self._histories.owner(learner)
        session = {
            "id": keyed_id(SESSION_NAMESPACE, owner, key) if key else str(uuid.uuid4()),
            "group_id": new.group_id,
            "study_activity_id": new.study_activity_id,
            "created_at": new.created_at or format_timestamp(now),
            **index_keys(owner, new.group_id, new.study_activity_id),
            # botocore resends a PutItem whose answer was lost; the resend then finds this
            # attempt's own item, which is a success, not a clash.
            "write_token": uuid.uuid4().hex,
        }
        if key:
            session["fingerprint"] = payload_fingerprint(new)
        replayed = False
        try:
            self._store.sessions.put_session(session)
        except SessionExists as clash:
            session, replayed = resolve_clash(clash.item, session, key)
        group, activity = groups[new.group_id], activities[new.study_activity_id]
        return session_json(session, group, activity), replayed

    def get(self, learner: str, session_id: str, query: dict) -> dict:
        """The session page of the lang-portal: the session and its reviewed words, paged."""
        paging = parse_numbered_paging(query)
        owner = self._histories.owner(learner)
        plausible = is_plausible_session_id(session_id)
        session = self._store.sessions.get_session(session_id) if plausible else None
        if session is None or session.get("owner") != owner:
            raise NotFound(SESSION_NOT_FOUND)
        counts = word_counts(session)
        page_ids = sorted(counts)[paging.offset:paging.offset + paging.per_page]
        words = self._references.lookup_words(page_ids) if page_ids else {}
        return {
            "session": self._named([session])[0],
            "words": [reviewed_word_json(id_, words.get(id_), counts[id_]) for id_ in page_ids],
            **numbered_page_json(len(counts), paging),
        }

    def _named(self, sessions: list) -> list:
        return named_sessions(self._references, sessions)

    def _live(self, keys: list) -> list:
        """The indexes hold keys only: the sessions themselves, with their live counts."""
        return self._named(self._store.sessions.get_sessions([key["id"] for key in keys])) if keys else []

    def list_all(self, learner: str, query: dict) -> dict:
        paging = parse_paging(query)
        owner = self._histories.owner(learner)
        return self._session_page(owner, SESSIONS_NEWEST, partition(SESSIONS_NEWEST, owner), TOTALS, paging)

    def list_for_group(self, learner: str, group_id: str, query: dict) -> dict:
        group = self._reference_data.get_group(group_id)
        paging = parse_paging(query)
        owner = self._histories.owner(learner)
        return self._session_page(owner, SESSIONS_BY_GROUP, partition(SESSIONS_BY_GROUP, owner, group["id"]),
                                  group_item(group["id"]), paging)

    def list_for_activity(self, learner: str, activity_id: str, query: dict,
                          numbered_by_default: bool) -> dict:
        activity = self._reference_data.get_activity(activity_id)
        paging = parse_paging(query, numbered_by_default)
        owner = self._histories.owner(learner)
        return self._session_page(owner, SESSIONS_BY_ACTIVITY,
                                  partition(SESSIONS_BY_ACTIVITY, owner, activity["id"]),
                                  activity_item(activity["id"]), paging)

    def numbered_group_sessions(self, owner: str, group_id: int, paging: NumberedPaging,
                                 newest_first: bool) -> dict:
        return self._numbered_page(owner, SESSIONS_BY_GROUP, partition(SESSIONS_BY_GROUP, owner, group_id),
                                   group_item(group_id), paging, newest_first)

    def recent_group_sessions(self, owner: str, group_id: int, count: int) -> list:
        keys = self._store.sessions.session_window(
            SESSIONS_BY_GROUP, partition(SESSIONS_BY_GROUP, owner, group_id), 0, count)
        return self._live(keys)

    def _session_page(self, owner: str, index: Index, partition_value, aggregate: str, paging) -> dict:
        if isinstance(paging, NumberedPaging):
            return self._numbered_page(owner, index, partition_value, aggregate, paging)
        scope = f"{index.name}:{partition_value}"
        after = decode_cursor(paging.cursor, scope, (a_stored_time, a_session_id))
        keys, more = self._store.sessions.query_sessions(index, partition_value, paging.limit, after)
        last = keys[-1] if keys else None
        return page_json(
            self._live(keys),
            encode_cursor(scope, [last["created_at"], last["id"]]) if more else None,
        )

    def _numbered_page(self, owner: str, index: Index, partition_value: str, aggregate: str,
                       paging: NumberedPaging, newest_first: bool = True) -> dict:
        """The total is the list's aggregate, kept by the stream consumer (it trails a write by
        about a second); the page is read from the nearer end of the index, so the first and
        the last pages read one page of keys whatever the list's length."""
        total = self._store.aggregates.aggregate(owner, aggregate).get("sessions", 0)
        keys = []
        if paging.offset < total:  # a page past the end reads nothing more
            count = min(paging.per_page, total - paging.offset)
            from_other_end = total - paging.offset - count
            if from_other_end < paging.offset:
                keys = self._store.sessions.session_window(index, partition_value, from_other_end, count,
                                                           newest_first=not newest_first)[::-1]
            else:
                keys = self._store.sessions.session_window(index, partition_value, paging.offset,
                                                           paging.per_page, newest_first)
                if len(keys) < paging.per_page:  # the list ends on this page: its length is known
                    total = paging.offset + len(keys)
        elif paging.offset == 0:  # nothing counted yet, maybe only not yet: look
            keys = self._store.sessions.session_window(index, partition_value, 0, paging.per_page,
                                                       newest_first)
            total = len(keys) if len(keys) < paging.per_page else total
        if keys:  # never fewer than the sessions this page shows
            total = max(total, paging.offset + len(keys))
        return {"items": self._live(keys), **numbered_page_json(total, paging)}
