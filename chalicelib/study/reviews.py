"""Use cases of word reviews: one answer, or a round of them (the lang-portal's
submitStudySessionReview), each stored with the memory of its words (chalicelib.core.scheduling)
in one transaction, after one read of their session and that memory. The session's figures
(review_items_count, its words' counts, end_time) follow from the stored reviews through the
stream consumer (chalicelib.streams.aggregates)."""
import time
import uuid
from datetime import datetime
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from chalicelib.core import scheduling
from chalicelib.core.errors import (
    SESSION_NOT_FOUND,
    InternalError,
    NotFound,
    Unavailable,
    ValidationFailed,
    WordNotInGroup,
)
from chalicelib.core.repeats import (
    REVIEW_NAMESPACE,
    ROUND_NAMESPACE,
    fingerprint,
    keyed_id,
    resolve_round,
    time_ordered_id,
)
from chalicelib.core.validation import (
    format_timestamp,
    is_plausible_session_id,
    parse_idempotency_key,
    parse_path_id,
    parse_review,
    parse_review_round,
)
from chalicelib.learners.histories import Histories
from chalicelib.learners.reference_cache import ReferenceCache
from chalicelib.storage.review_repository import ReviewRefused
from chalicelib.storage.schema import ROUND_REVIEWS, round_review, word_history
from chalicelib.storage.store import Store
from chalicelib.study.representation import review_json
from chalicelib.study.review_cache import ReviewCache

MEMORY_ATTEMPTS = 64  # computations of a memory that parallel reviews of the word change first (in budget)


def carried_reviews(stored: Dict[int, dict], ids: Sequence[str]) -> List[dict]:
    """The reviews among ``ids`` that the stored memory items carry (a round committed, its
    own items perhaps not written yet), as their items."""
    wanted, found = set(ids), []
    for memory in stored.values():
        for review_id, carried in memory.get(ROUND_REVIEWS, {}).items():
            if review_id in wanted:
                found.append(round_review(memory, review_id, carried))
    return found


class Reviews:
    def __init__(self, store: Store, references: ReferenceCache, histories: Histories,
                 clock: Callable[[], datetime], recent: Optional[ReviewCache] = None):
        """``recent``: what this function last read and wrote for reviews (a new one by default)."""
        self._recent = recent or ReviewCache()
        self._store = store
        self._references = references
        self._histories = histories
        self._clock = clock

    def forget_scheduler(self, owner: str) -> None:
        """The owner's scheduler changed (in this function): nothing kept of it is used again."""
        self._recent.forget_scheduler(owner)

    def review(self, learner: str, session_id: str, path_word_id: Optional[str], body,
               idempotency_key: Optional[str]) -> Tuple[dict, bool]:
        """A word review recorded on its session; and whether it replays an earlier one."""
        key = parse_idempotency_key(idempotency_key)
        word_id = parse_path_id(path_word_id, "word id") if path_word_id is not None else None
        now = self._clock()
        new = parse_review(body, word_id, now)
        if not is_plausible_session_id(session_id):
            raise NotFound(SESSION_NOT_FOUND)
        owner = self._histories.owner(learner)
        review = self._new_review(owner, session_id, new, now, key and keyed_id(REVIEW_NAMESPACE, owner, key),
                                  key and [session_id, new.word_id, new.correct, *_given_time(new)])
        word = self._references.lookup_words([new.word_id]).get(new.word_id)
        if word is None:  # a miss is cached for seconds: a word added since is found by reading it
            word = self._store.references.get_references({"word": [new.word_id]})["word"].get(new.word_id)
        stored, replayed = self._record([review], [new], {0: word}, key, single=True)
        return review_json(stored[0]), replayed

    def review_round(self, learner: str, session_id: str, body,
                     idempotency_key: Optional[str]) -> Tuple[dict, bool]:
        """A round of answers (the frontend's submitStudySessionReview), recorded all or none;
        and whether it replays an earlier round. Only an Idempotency-Key names a repeat: without
        one every round is new (a learner may answer the same words the same way twice), and
        the API's own resends are recognised by their write tokens."""
        key = parse_idempotency_key(idempotency_key)
        now = self._clock()
        round_ = parse_review_round(body, now)
        if not is_plausible_session_id(session_id):
            raise NotFound(SESSION_NOT_FOUND)
        content = fingerprint([session_id, [[new.word_id, new.correct, *_given_time(new)] for new in round_]])
        owner = self._histories.owner(learner)
        name = key and f"{owner}:{key}"
        reviews = [self._new_review(
            owner, session_id, new, now, name and str(uuid.uuid5(ROUND_NAMESPACE, f"{name}#{index}")),
            name and [content, index]) for index, new in enumerate(round_)]
        found = self._references.lookup_words({new.word_id for new in round_})
        absent = [f"reviews[{i}]: Word {new.word_id} does not exist." for i, new in enumerate(round_)
                  if new.word_id not in found]
        if absent:
            raise NotFound(" ".join(absent))
        words = {index: found[new.word_id] for index, new in enumerate(round_)}
        stored, replayed = self._record(reviews, round_, words, name)
        return {"study_session_id": session_id, "reviews": [review_json(r) for r in stored]}, replayed

    @staticmethod
    def _new_review(owner: str, session_id: str, new, now: datetime, review_id: Optional[str],
                    fingerprint_of: Optional[list]) -> dict:
        order = time_ordered_id()  # the order written; a key's id (a UUIDv5) has none
        reviewed_at = new.reviewed_at or format_timestamp(now)
        review = {
            "id": review_id or order,
            "owner": owner,
            "study_session_id": session_id,
            "word_id": new.word_id,
            "correct": new.correct,
            "created_at": reviewed_at,
            # the scheduler's order of the owner's reviews of this word (schema.REVIEWS_BY_WORD)
            "owner_word": word_history(owner, new.word_id),
            "reviewed_key": scheduling.answer_key(reviewed_at, order),
            # a resend of the write finds this attempt's own items: a success, not a clash
            "write_token": uuid.uuid4().hex,
        }
        if fingerprint_of:
            review["fingerprint"] = fingerprint(fingerprint_of)
        return review

    def _record(self, reviews: list, asked: List, words: dict, name: Optional[str],
                single: bool = False) -> Tuple[list, bool]:
        """Write the reviews and their words' memory (one review: one transaction of both; a
        round: committed on its memory items, chalicelib.storage.review_repository); the stored
        reviews, and whether they replay earlier ones. ``asked``: the parsed reviews; ``words``:
        the reviewed word by the review's index (None for a single word not found); ``name``:
        what names a repeat (a key)."""
        owner, session_id = reviews[0]["owner"], reviews[0]["study_session_id"]
        word_ids = {review["word_id"] for review in reviews}
        # a keyed round's reviews have known ids: read them with the memory, as earlier rounds
        # under the key are recognised by them (a review's own transaction refuses its id)
        named_ids = [review["id"] for review in reviews] if name and not single else []
        session, stored, scheduler = (None, None, None) if named_ids else self._recent.lookup(
            session_id, owner, word_ids)
        existing: list = []
        if session is None:
            session, stored, scheduler, existing = self._store.reviews.session_and_memories(
                session_id, owner, word_ids, named_ids)
            self._recent.remember_read(session, owner, word_ids, stored, scheduler)
        absent = []
        if session is None or session.get("owner") != owner:  # another's session is as unknown as none
            absent.append(SESSION_NOT_FOUND)
        if any(word is None for word in words.values()):
            absent.append(f"Word {reviews[0]['word_id']} does not exist.")
        if absent:
            raise NotFound(" ".join(absent))
        given = [(index, new.reviewed_at) for index, new in enumerate(asked) if new.reviewed_at]
        self._refuse_for_session(session, words, given, single)
        _not_before_start(reviews, asked, session["created_at"])
        started, conflicts = time.monotonic(), 0
        for _ in range(MEMORY_ATTEMPTS):
            earlier = {review["id"]: review for review in existing + carried_reviews(stored, named_ids)}
            if earlier:
                if len(earlier) < len(reviews) and all(
                        earlier[review["id"]].get("fingerprint") == review.get("fingerprint")
                        for review in reviews if review["id"] in earlier):
                    # this very round, committed whole: the rest of its reviews are being written
                    earlier = self._store.reviews.whole_round(named_ids, earlier)
                return resolve_round(list(earlier.values()), reviews, name)
            settings = scheduling.settings_of(scheduler)
            if any(scheduling.memory_version(memory) > settings.version for memory in stored.values()):
                # a BatchGetItem is no snapshot: the scheduler was read before a change that a
                # memory read with it already has; computed with it, the write would undo that
                scheduler = self._store.scheduler.scheduler(owner)
                self._recent.remember_read(None, owner, (), {}, scheduler)
                settings = scheduling.settings_of(scheduler)
            memories = self._memories(reviews, stored, settings)
            self._recent.forget(owner, word_ids)
            try:
                record = self._store.reviews.record_reviews if single else self._store.reviews.record_round
                copies = record(reviews, memories, stored)
                self._recent.remember_written(owner, memories, copies)
                return reviews, False
            except ReviewRefused as refused:
                if refused.existing:
                    return resolve_round(refused.existing, reviews, name)
                if not refused.memory_stale:
                    raise InternalError(cause="review refused by no known condition") from None
            # another review of a word was applied first: read its memory and compute again
            conflicts += 1
            if not self._store.reviews.wait_after_conflict(conflicts, started):
                break
            _renew_order(reviews, keyed=name is not None)  # made now: after the one applied
            scheduler, stored = self._store.memories.memories(owner, word_ids)
            existing = self._store.reviews.get_reviews(named_ids) if named_ids else []
            self._recent.remember_read(None, owner, word_ids, stored, scheduler)
        raise Unavailable(cause="the memory of a reviewed word kept changing under this review")

    @staticmethod
    def _refuse_for_session(session: dict, words: dict, given: list, single: bool) -> None:
        """Raise what makes the session refuse the reviews, if it is theirs to answer."""
        group = session["group_id"]
        for index, word in words.items():
            if word is not None and group not in word.get("group_ids", []):
                raise WordNotInGroup(word["id"], group, None if single else f"reviews[{index}]") from None
        for index, at in given:
            if at < session["created_at"]:
                where = "reviewed_at" if single else f"reviews[{index}].reviewed_at"
                raise ValidationFailed(
                    f"{where} is {at}, before the session's start_time {session['created_at']}: "
                    "a review belongs to its session's time.") from None

    def _memories(self, reviews: list, stored: dict, settings: scheduling.SchedulerSettings
                  ) -> List[scheduling.MemoryUpdate]:
        """The new memory of each reviewed word, with the learner's settings: the stored state
        advanced by the reviews, or for a review older than the word's last one, or a memory
        computed with other settings, the word's whole history replayed."""
        owner = reviews[0]["owner"]
        histories = {word_id: self._store.reviews.word_history(owner, word_id, stored[word_id])
                     for word_id in scheduling.replayed_words(reviews, stored, settings)}
        return scheduling.plan(reviews, stored, histories, settings)


def _not_before_start(reviews: list, asked: List, start: str) -> None:
    """A review sent without its time, to a session that starts later (a start up to 5 minutes
    ahead): recorded at the session's start, as an answer belongs to its session's time."""
    for review, new in zip(reviews, asked, strict=True):
        if not new.reviewed_at and review["created_at"] < start:
            review["created_at"] = start
            review["reviewed_key"] = scheduling.answer_key(start, review["reviewed_key"].split("#", 1)[1])


def _renew_order(reviews: list, keyed: bool) -> None:
    """A new place in the replay order for each review, in the order written; and as the id of
    a review without a key, which is its order."""
    for review in reviews:
        order = time_ordered_id()
        if not keyed:
            review["id"] = order
        review["reviewed_key"] = scheduling.answer_key(review["created_at"], order)


def _given_time(new) -> list:
    """What a reviewed_at adds to a repeat's fingerprint: nothing when it was left to default."""
    return [new.reviewed_at] if new.reviewed_at else []
