"""Use cases of word reviews: one answer, or a round of them (the lang-portal's
submitStudySessionReview), each recorded on its session in one transaction."""
import uuid
from datetime import datetime
from typing import Callable, Dict, Optional, Tuple

from chalicelib.errors import SESSION_NOT_FOUND, InternalError, NotFound, WordNotInGroup
from chalicelib.histories import Histories
from chalicelib.references import ReferenceCache
from chalicelib.repeats import REVIEW_NAMESPACE, ROUND_NAMESPACE, fingerprint, keyed_id, resolve_round
from chalicelib.representation import review_json
from chalicelib.schema import WORD_COUNTER_PREFIXES
from chalicelib.store import DynamoStore, ReviewRefused
from chalicelib.validation import (
    format_timestamp,
    is_plausible_session_id,
    parse_idempotency_key,
    parse_path_id,
    parse_review,
    parse_review_round,
)


class Reviews:
    def __init__(self, store: DynamoStore, references: ReferenceCache, histories: Histories,
                 clock: Callable[[], datetime]):
        self._store = store
        self._references = references
        self._histories = histories
        self._clock = clock

    def review(self, learner: str, session_id: str, path_word_id: Optional[str], body,
               idempotency_key: Optional[str]) -> Tuple[dict, bool]:
        """A word review recorded on its session; and whether it replays an earlier one."""
        key = parse_idempotency_key(idempotency_key)
        word_id = parse_path_id(path_word_id, "word id") if path_word_id is not None else None
        new = parse_review(body, word_id)
        if not is_plausible_session_id(session_id):
            raise NotFound(SESSION_NOT_FOUND)
        owner = self._histories.owner(learner)
        review = self._new_review(owner, session_id, new, key and keyed_id(REVIEW_NAMESPACE, owner, key),
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
        content = fingerprint([session_id, [[new.word_id, new.correct] for new in round_]])
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
                    fingerprint_of: Optional[list]) -> dict:
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
        if fingerprint_of:
            review["fingerprint"] = fingerprint(fingerprint_of)
        return review

    def _record(self, reviews: list, words: dict, name: Optional[str],
                single: bool = False) -> Tuple[list, bool]:
        """Write the reviews on their session in one transaction; the stored reviews, and
        whether they replay earlier ones. ``words``: the reviewed word by the review's index
        (None for a single word not found); ``name``: what names a repeat (a key)."""
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
                    return resolve_round(refused.existing, reviews, name)
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
