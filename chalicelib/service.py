"""Use cases of the study-sessions API: validate, read references, write, shape."""
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Callable, Dict, Optional, Tuple

from chalicelib.errors import IdempotencyKeyReused, InternalError, NotFound, WordNotInGroup
from chalicelib.histories import Histories
from chalicelib.pagination import decode_cursor, encode_cursor
from chalicelib.references import ReferenceCache
from chalicelib.representation import (
    activity_json,
    group_json,
    numbered_page_json,
    page_json,
    review_json,
    reviewed_word_json,
    session_json,
    word_counts,
    word_json,
)
from chalicelib.schema import (
    SESSIONS_BY_ACTIVITY,
    SESSIONS_BY_GROUP,
    SESSIONS_NEWEST,
    TOTALS,
    WORD_COUNTER_PREFIXES,
    Index,
    activity_item,
    group_item,
    index_keys,
    partition,
)
from chalicelib.store import DynamoStore, ReviewRefused, SessionExists
from chalicelib.validation import (
    NewSession,
    NumberedPaging,
    format_timestamp,
    is_plausible_session_id,
    parse_idempotency_key,
    parse_limit,
    parse_new_session,
    parse_numbered_paging,
    parse_paging,
    parse_path_id,
    parse_review,
    parse_review_round,
)

# Session ids for requests with an Idempotency-Key are UUIDv5s of the owner and the key in this
# namespace: two learners (or one learner before and after a reset) sending one key get two sessions.
SESSION_NOT_FOUND = "This study session does not exist."
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1d7a52-1c55-4f7e-9a53-3d3b8f0c2a41")
REVIEW_NAMESPACE = uuid.UUID("0d9b6c7e-52f1-4c3a-8e0b-7b5f3e2a9c14")  # likewise, review ids
ROUND_NAMESPACE = uuid.UUID("5a1f0e43-9c2d-4b7a-8f36-2e9d41c07b58")  # a keyed round's reviews


def _utc_now() -> datetime:
    return datetime.now(UTC)


def payload_fingerprint(new: NewSession) -> str:
    """Same for two requests that ask for the same session; a defaulted
    created_at counts as absent, so a retry a second later still matches."""
    return _fingerprint([new.group_id, new.study_activity_id, new.created_at])


def _fingerprint(values: list) -> str:
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()


def _resolve_clash(existing: dict, attempted: dict, key: Optional[str]) -> Tuple[dict, bool]:
    """A conditional write found an item under its id: the stored item, and whether the
    request replays an earlier one. botocore resends a write whose answer was lost; finding
    this attempt's own write_token there is a success, not a clash."""
    if existing.get("write_token") == attempted["write_token"]:
        return existing, False
    if key is None:
        raise InternalError(cause="random id already taken")
    if existing.get("fingerprint") != attempted["fingerprint"]:
        raise IdempotencyKeyReused()
    return existing, True


def _resolve_round(existing: list, attempted: list, name: Optional[str]) -> Tuple[list, bool]:
    """Reviews already stored under the ids of these: each resolved as a clash; a repeat that
    does not match them all (a key reused for another round) is refused."""
    stored = {item["id"]: item for item in existing}
    if set(stored) != {review["id"] for review in attempted}:
        raise IdempotencyKeyReused()
    resolved = [_resolve_clash(stored[review["id"]], review, name) for review in attempted]
    return [item for item, _ in resolved], any(replayed for _, replayed in resolved)


class StudySessionService:
    def __init__(
        self,
        store: DynamoStore,
        references: ReferenceCache,
        histories: Histories,
        clock: Callable[[], datetime] = _utc_now,
    ):
        self._store = store
        self._references = references
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
            "id": str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{owner}:{key}") if key else uuid.uuid4()),
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
            self._store.put_session(session)
        except SessionExists as clash:
            session, replayed = _resolve_clash(clash.item, session, key)
        group, activity = groups[new.group_id], activities[new.study_activity_id]
        return session_json(session, group, activity), replayed

    def review(self, learner: str, session_id: str, path_word_id: Optional[str], body,
               idempotency_key: Optional[str]) -> Tuple[dict, bool]:
        """A word review recorded on its session; and whether it replays an earlier one."""
        key = parse_idempotency_key(idempotency_key)
        word_id = parse_path_id(path_word_id, "word id") if path_word_id is not None else None
        new = parse_review(body, word_id)
        if not is_plausible_session_id(session_id):
            raise NotFound(SESSION_NOT_FOUND)
        owner = self._histories.owner(learner)
        review = self._new_review(owner, session_id, new,
                                  key and str(uuid.uuid5(REVIEW_NAMESPACE, f"{owner}:{key}")),
                                  key and [session_id, new.word_id, new.correct])
        word = self._references.lookup_words([new.word_id]).get(new.word_id)
        stored, replayed = self._record([review], {0: word}, key, single=True)
        return review_json(stored[0]), replayed

    def review_round(self, learner: str, session_id: str, body,
                     idempotency_key: Optional[str]) -> Tuple[dict, bool]:
        """A round of answers (the frontend's submitStudySessionReview), recorded all or none;
        and whether it replays an earlier round. Only an Idempotency-Key names a repeat: without
        one every round is new (a learner may answer the same words the same way twice), and
        the API's own resends are recognised by their write tokens."""
        key = parse_idempotency_key(idempotency_key)
        round_ = parse_review_round(body)
        if not is_plausible_session_id(session_id):
            raise NotFound(SESSION_NOT_FOUND)
        content = _fingerprint([session_id, [[new.word_id, new.correct] for new in round_]])
        owner = self._histories.owner(learner)
        name = key and f"{owner}:{key}"
        reviews = [self._new_review(
            owner, session_id, new, name and str(uuid.uuid5(ROUND_NAMESPACE, f"{name}#{index}")),
            name and [content, index]) for index, new in enumerate(round_)]
        found = self._references.lookup_words({new.word_id for new in round_})
        absent = [f"reviews[{i}]: Word {new.word_id} does not exist." for i, new in enumerate(round_)
                  if new.word_id not in found]
        if absent:
            raise NotFound(" ".join(absent))
        words = {index: found[new.word_id] for index, new in enumerate(round_)}
        stored, replayed = self._record(reviews, words, name)
        return {"study_session_id": session_id, "reviews": [review_json(r) for r in stored]}, replayed

    def _new_review(self, owner: str, session_id: str, new, review_id: Optional[str],
                    fingerprint: Optional[list]) -> dict:
        review = {
            "id": review_id or str(uuid.uuid4()),
            "owner": owner,
            "study_session_id": session_id,
            "word_id": new.word_id,
            "correct": new.correct,
            "created_at": format_timestamp(self._clock()),
            # a resend of the write finds this attempt's own items: a success, not a clash
            "write_token": uuid.uuid4().hex,
        }
        if fingerprint:
            review["fingerprint"] = _fingerprint(fingerprint)
        return review

    def _record(self, reviews: list, words: dict, name: Optional[str],
                single: bool = False) -> Tuple[list, bool]:
        """Write the reviews on their session in one transaction; the stored reviews, and
        whether they replay earlier ones. ``words``: the reviewed word by the review's index
        (None for a single word not found); ``name``: what names a repeat (a key, a round)."""
        counters: Dict[str, int] = {}
        for review in reviews:
            counter = f"{WORD_COUNTER_PREFIXES[review['correct']]}{review['word_id']}"
            counters[counter] = counters.get(counter, 0) + 1
        known = [set(word.get("group_ids", [])) for word in words.values() if word is not None]
        word_groups = set.intersection(*known) if len(known) == len(reviews) else None
        # At most two calls: the second only when the end_time must stay (a later review set
        # it, or the session starts after these reviews).
        for set_end_time in (True, False):
            try:
                self._store.record_reviews(reviews, counters, set_end_time, word_groups)
                return reviews, False
            except ReviewRefused as refused:
                if refused.existing:
                    return _resolve_round(refused.existing, reviews, name)
                absent = []
                theirs = refused.session is not None and refused.session.get("owner") != reviews[0]["owner"]
                if refused.session_missing or theirs:  # another's session is as unknown as none
                    absent.append(SESSION_NOT_FOUND)
                if refused.word_missing:
                    absent.append(f"Word {reviews[0]['word_id']} does not exist.")
                if absent:
                    raise NotFound(" ".join(absent)) from None
                if refused.session is None:
                    raise InternalError(cause="review refused by no known condition") from None
                group = refused.session["group_id"]
                for index, word in words.items():
                    if word is not None and group not in word.get("group_ids", []):
                        where = None if single else f"reviews[{index}]"
                        raise WordNotInGroup(word["id"], group, where) from None
        raise InternalError(cause="review refused twice for its end_time")

    def dashboard(self):
        """The dashboard's use cases, on this service's store and reference cache (imported
        here: a create's cold start loads only what a create uses)."""
        from chalicelib.dashboard import Dashboard

        return Dashboard(self._store, self._references, self._histories.owner, self._clock)

    def get(self, learner: str, session_id: str, query: dict) -> dict:
        """The session page of the lang-portal: the session and its reviewed words, paged."""
        paging = parse_numbered_paging(query)
        session = self._store.get_session(session_id) if is_plausible_session_id(session_id) else None
        if session is None or session.get("owner") != self._histories.owner(learner):
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
        """Sessions as JSON, with group and activity names read once for all of them."""
        groups, activities = self._references.lookup(
            {s["group_id"] for s in sessions}, {s["study_activity_id"] for s in sessions}
        )
        return [
            session_json(s, groups.get(s["group_id"]), activities.get(s["study_activity_id"]))
            for s in sessions
        ]

    def _live(self, keys: list) -> list:
        """The indexes hold keys only: the sessions themselves, with their live counts."""
        return self._named(self._store.get_sessions([key["id"] for key in keys])) if keys else []

    def list_all(self, learner: str, query: dict) -> dict:
        paging = parse_paging(query)
        owner = self._histories.owner(learner)
        return self._session_page(owner, SESSIONS_NEWEST, partition(SESSIONS_NEWEST, owner), TOTALS, paging)

    def list_for_group(self, learner: str, group_id: str, query: dict) -> dict:
        group = self.get_group(group_id)
        paging = parse_paging(query)
        owner = self._histories.owner(learner)
        return self._session_page(owner, SESSIONS_BY_GROUP, partition(SESSIONS_BY_GROUP, owner, group["id"]),
                                  group_item(group["id"]), paging)

    def list_for_activity(self, learner: str, activity_id: str, query: dict,
                          numbered_by_default: bool) -> dict:
        activity = self.get_activity(activity_id)
        paging = parse_paging(query, numbered_by_default)
        owner = self._histories.owner(learner)
        return self._session_page(owner, SESSIONS_BY_ACTIVITY,
                                  partition(SESSIONS_BY_ACTIVITY, owner, activity["id"]),
                                  activity_item(activity["id"]), paging)

    def catalog(self):
        """The words and groups pages, on this service's store and reference cache."""
        from chalicelib.catalog import Catalog

        return Catalog(self._store, self._references, self._histories.owner,
                       self._numbered_group_sessions, self._recent_group_sessions)

    def _numbered_group_sessions(self, owner: str, group_id: int, paging: NumberedPaging,
                                 newest_first: bool) -> dict:
        return self._numbered_page(owner, SESSIONS_BY_GROUP, partition(SESSIONS_BY_GROUP, owner, group_id),
                                   group_item(group_id), paging, newest_first)

    def _recent_group_sessions(self, owner: str, group_id: int, count: int) -> list:
        keys = self._store.session_window(SESSIONS_BY_GROUP, partition(SESSIONS_BY_GROUP, owner, group_id),
                                          0, count)
        return self._live(keys)

    def _session_page(self, owner: str, index: Index, partition_value, aggregate: str, paging) -> dict:
        if isinstance(paging, NumberedPaging):
            return self._numbered_page(owner, index, partition_value, aggregate, paging)
        scope = f"{index.name}:{partition_value}"
        after = decode_cursor(paging.cursor, scope, (str, str))
        keys, more = self._store.query_sessions(index, partition_value, paging.limit, after)
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
        total = self._store.aggregate(owner, aggregate).get("sessions", 0)
        keys = []
        if paging.offset < total:  # a page past the end reads nothing more
            count = min(paging.per_page, total - paging.offset)
            from_other_end = total - paging.offset - count
            if from_other_end < paging.offset:
                keys = self._store.session_window(index, partition_value, from_other_end, count,
                                                  newest_first=not newest_first)[::-1]
            else:
                keys = self._store.session_window(index, partition_value, paging.offset, paging.per_page,
                                                  newest_first)
                if len(keys) < paging.per_page:  # the list ends on this page: its length is known
                    total = paging.offset + len(keys)
        elif paging.offset == 0:  # nothing counted yet, maybe only not yet: look
            keys = self._store.session_window(index, partition_value, 0, paging.per_page, newest_first)
            total = len(keys) if len(keys) < paging.per_page else total
        if keys:  # never fewer than the sessions this page shows
            total = max(total, paging.offset + len(keys))
        return {"items": self._live(keys), **numbered_page_json(total, paging)}

    def list_groups(self, query: dict) -> dict:
        return self._reference_page(self._references.all_groups(), "groups", group_json, query)

    def list_activities(self) -> list:
        """Every study activity, by id: the lang-portal reads a bare array."""
        return [activity_json(activity) for activity in self._references.all_activities()]

    def list_group_words(self, group_id: str, query: dict) -> dict:
        """The words an activity reviews for a group, by id."""
        group = self.get_group(group_id)
        words = [w for w in self._references.all_words() if group["id"] in w.get("group_ids", [])]
        return self._reference_page(words, f"words:{group['id']}", word_json, query)

    def launch(self, activity_id: str) -> dict:
        """What the lang-portal's launch page needs: the activity and the groups to pick from."""
        activity = self.get_activity(activity_id)
        return {"activity": activity, "groups": [group_json(g) for g in self._references.all_groups()]}

    @staticmethod
    def _reference_page(items, scope: str, shape, query: dict):
        size, after = parse_limit(query.get("limit")), decode_cursor(query.get("cursor"), scope, (int,))
        if after:
            items = [item for item in items if item["id"] > after[0]]
        page = items[:size]
        more = len(items) > size
        return page_json(
            [shape(item) for item in page], encode_cursor(scope, [page[-1]["id"]]) if more else None
        )

    def get_group(self, group_id: str) -> dict:
        id_ = parse_path_id(group_id, "group id")
        groups, _ = self._references.lookup([id_], [])
        if id_ not in groups:
            raise NotFound(f"Group {id_} does not exist.")
        return group_json(groups[id_])

    def get_activity(self, activity_id: str) -> dict:
        id_ = parse_path_id(activity_id, "study activity id")
        _, activities = self._references.lookup([], [id_])
        if id_ not in activities:
            raise NotFound(f"Study activity {id_} does not exist.")
        return activity_json(activities[id_])
