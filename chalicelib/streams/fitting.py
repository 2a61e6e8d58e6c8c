"""A fit of one learner's FSRS parameters, off the request path: the handler of the fit queue's
messages {"owner", "requested_at", "counted"} (POST /api/me/scheduler/fit, `make fit`, the nightly
schedule). It reads the learner's scheduler item and every review of theirs, hands them to the
fitting engine (chalicelib.streams.fitter: fitLearner, which fits on the oldest 80 % and judges
candidate and current parameters on the newest 20 %) and writes its answer with
chalicelib.streams.adoption.adopt: new parameters only if they predict better, otherwise only the
figures and why. The write ends the request (the scheduler's FIT_REQUESTED) and is made only
while that request is pending and the scheduler is still at the version fitted: a redelivered
message and a fit whose scheduler changed meanwhile write nothing of the fit. A message of a
history reset or erased since it was sent (the purge deletes it minutes later) does nothing."""
import json
import logging
from datetime import datetime
from typing import Callable, List, Optional

from chalicelib.core.scheduling import settings_of
from chalicelib.storage.scheduler_repository import FIT_REQUESTED, RECOMPUTE_PENDING
from chalicelib.storage.store import Store
from chalicelib.streams.adoption import adopt

PAGE = 100
# What one fit reads at most: the newest reviews, a payload the fitter's synchronous invocation
# (6 MB) carries with room to spare (~60 bytes a review). Older reviews are left out; a word
# whose history is cut starts, for the fit, at its first review kept.
MAX_REVIEWS = 50_000

log = logging.getLogger("study-sessions.fitting")


def learner_reviews(store: Store, owner: str, limit: int = MAX_REVIEWS) -> List[dict]:
    """The owner's reviews as the fitter reads them ({word_id, reviewed_at, correct}), oldest
    first, the newest ``limit``: their memory items by word, each word's reviews from the index
    REVIEWS_BY_WORD (keys and `correct` only)."""
    reviews, after = [], None
    while True:
        page, more = store.memories.partition_page(owner, PAGE, after)
        for memory in page:
            for answer in store.reviews.word_history(owner, memory["word_id"], memory):
                reviews.append({"word_id": int(memory["word_id"]), "reviewed_at": answer.key.split("#", 1)[0],
                                "correct": bool(answer.correct)})
        if not more:
            break
        after = page[-1]["word_id"]
    reviews.sort(key=lambda review: review["reviewed_at"])
    return reviews[-limit:]


class FittingWorker:
    def __init__(self, store: Store, fitter, recompute_queue, clock: Callable[[], datetime],
                 is_current: Callable[[str], bool] = lambda owner: True):
        """``is_current(owner)``: whether that history is still its learner's (not reset since,
        nor erased): a fit of one replaced writes nothing and sends nothing."""
        self._store = store
        self._is_current = is_current
        self._fitter = fitter
        self._recompute_queue = recompute_queue
        self._clock = clock

    def handle(self, event: dict) -> dict:
        """An SQS event (batch size 1): each message fitted; an error fails the message, which
        SQS hands again and, after the queue's maxReceiveCount, moves to the dead-letter queue."""
        outcomes = [self.fit(**_message(record["body"])) for record in event.get("Records", [])]
        return {"outcomes": outcomes}

    def fit(self, owner: str, requested_at: str, counted: Optional[int] = None) -> str:
        if not self._is_current(owner):
            log.info(json.dumps({"event": "fit_skipped", "reason": "history_replaced"}))
            return "history_replaced"  # reset or erased: the purge deletes that history
        item = self._store.scheduler.scheduler(owner)
        if item.get(FIT_REQUESTED) != requested_at:
            if RECOMPUTE_PENDING in item:  # perhaps this message's adoption, whose send failed
                self._recompute_queue.send(owner, int(item[RECOMPUTE_PENDING]))
            log.info(json.dumps({"event": "fit_skipped", "reason": "not_pending"}))
            return "not_pending"  # done already, or replaced by a newer request
        settings = settings_of(item)
        result = self._fitter.fit(learner_reviews(self._store, owner), settings.parameters)
        if not self._is_current(owner):  # reset or erased during the fit
            log.info(json.dumps({"event": "fit_skipped", "reason": "history_replaced"}))
            return "history_replaced"
        version = adopt(self._store, owner, result, settings.version, self._clock(),
                        queue=self._recompute_queue, fit_requested_at=requested_at, counted=counted)
        if version is None:
            # another change of the scheduler came first: this fit is of parameters no longer in use
            self._store.scheduler.end_fit_request(owner, requested_at)
            outcome = "scheduler_changed"
        else:
            outcome = "adopted" if result.get("adopted") is True else "kept"
        log.info(json.dumps({"event": "fit_done", "outcome": outcome, "reason": result.get("reason"),
                             "reviews_used": result.get("reviews_used")}))
        return outcome


def _message(body: str) -> dict:
    message = json.loads(body)
    counted = message.get("counted")
    return {"owner": str(message["owner"]), "requested_at": str(message["requested_at"]),
            "counted": counted if type(counted) is int else None}
