"""The learner's scheduler (GET and PUT /api/me/scheduler): the FSRS parameters their memories are
computed with (fsrs's defaults until a fit of their own reviews is adopted,
chalicelib.streams.adoption) and the desired retention they choose.

A change writes the scheduler's next version (one conditional UpdateItem) and hands the
recompute of the learner's memories to ``recompute_queue`` (its ``send(owner, version)``): the
request does not wait for it. Until a memory is recomputed it keeps its old `due`; a review of
the word meanwhile replays it with the new settings (chalicelib.core.scheduling)."""
from datetime import datetime, timedelta
from typing import Callable, Optional

from chalicelib.core.errors import TooFewReviews, Unavailable
from chalicelib.core.scheduling import DEFAULT, FITTED, MAX_RETENTION, MIN_RETENTION, settings_of
from chalicelib.core.validation import format_timestamp, parse_scheduler_change
from chalicelib.storage.dynamo import Item
from chalicelib.storage.scheduler_repository import FIT_REQUESTED, FIT_SENT, RECOMPUTE_PENDING
from chalicelib.storage.schema import TOTALS
from chalicelib.storage.store import Store

CHANGE_ATTEMPTS = 4  # another change of the same scheduler came first: read it again
# functions/fitting's MIN_REVIEWS: 800 reviews to fit and 200 to judge the fit by (README,
# "Personalised scheduling").
MIN_FIT_REVIEWS = 1000
# A fit request pending longer than this failed (its message went to the dead-letter queue after
# the fit queue's maxReceiveCount deliveries, each within its visibility timeout:
# devtools/fitting_template.py): a new request may then be made.
FIT_VISIBILITY_SECONDS = 720
FIT_MAX_RECEIVES = 3
FIT_PENDING_SECONDS = FIT_VISIBILITY_SECONDS * FIT_MAX_RECEIVES
SCHEDULER_PATH = "/api/me/scheduler"
# The nightly fit refits a learner once they have this many reviews more than the stream consumer
# had counted when their last fit was asked for (next_fit_after).
REFIT_AFTER_REVIEWS = 500
EVALUATION_FIELDS = ("log_loss", "rmse_bins", "default_log_loss", "default_rmse_bins", "reviews")


def _percent(share) -> str:
    return f"{round(100 * share)} %"


def evaluation_json(item: Item) -> Optional[dict]:
    """How the parameters in use predicted the learner's held-out reviews at the last fit that
    scored them; None while they are the defaults."""
    evaluation = item.get("evaluation")
    if item.get("source") != FITTED or not isinstance(evaluation, dict):
        return None
    own = "" if item.get("evaluation_adopted", True) else "current_"  # a fit kept: the current's figures
    return {"log_loss": evaluation.get(f"{own}log_loss"), "rmse_bins": evaluation.get(f"{own}rmse_bins"),
            "default_log_loss": evaluation.get("default_log_loss"),
            "default_rmse_bins": evaluation.get("default_rmse_bins"), "reviews": evaluation.get("reviews")}


def summary(item: Item) -> Optional[str]:
    """"predicted 87 % recall, remembered 85 %": the mean predicted recall of the held-out reviews
    with the parameters in use, and the share of them answered correctly; None while default or
    when the fit did not report them."""
    evaluation = item.get("evaluation")
    if evaluation_json(item) is None:
        return None
    own = "" if item.get("evaluation_adopted", True) else "current_"
    predicted, recalled = evaluation.get(f"{own}predicted_recall"), evaluation.get("recalled")
    if not isinstance(predicted, (int, float)) or not isinstance(recalled, (int, float)):
        return None
    return f"predicted {_percent(predicted)} recall, remembered {_percent(recalled)}"


def scheduler_json(item: Item) -> dict:
    """The scheduler as GET /api/me/scheduler shows it, from its stored item (empty: the defaults)."""
    settings = settings_of(item)
    return {"parameters": list(settings.parameters), "source": item.get("source", DEFAULT),
            "desired_retention": settings.desired_retention, "version": settings.version,
            "fitted_at": item.get("fitted_at"), "reviews_used": item.get("reviews_used"),
            "evaluation": evaluation_json(item), "summary": summary(item),
            "next_fit_after": next_fit_after(item), "fit_requested_at": item.get(FIT_REQUESTED),
            "last_fit": item.get("last_fit")}


def next_fit_after(item: Item) -> int:
    """The count of the learner's reviews from which the nightly run fits them (again)."""
    last = item.get("last_fit")
    if not isinstance(last, dict):
        return MIN_FIT_REVIEWS
    return max(MIN_FIT_REVIEWS, int(last.get("counted", last.get("reviews", 0))) + REFIT_AFTER_REVIEWS)


class LearnerScheduler:
    def __init__(self, store: Store, owner_of: Callable[[str], str], recompute_queue,
                 changed: Callable[[str], None] = lambda owner: None, fit_queue=None,
                 clock: Callable[[], datetime] = datetime.now,
                 is_current: Callable[[str], bool] = lambda owner: True):
        """``owner_of(learner)``: the owner of the learner's current history; ``is_current(owner)``:
        whether an owner still is (not reset since, nor erased);
        ``recompute_queue.send(owner, version)``: recompute the owner's memories, off the request;
        ``changed(owner)``: told of each change (this function's reviews forget what they kept);
        ``fit_queue.send(message)``: a fit of the owner's parameters (chalicelib.streams.fitting)."""
        self._store = store
        self._owner_of = owner_of
        self._queue = recompute_queue
        self._changed = changed
        self._fit_queue = fit_queue
        self._clock = clock
        self._is_current = is_current

    def queue_due_fits(self) -> int:
        """The nightly fits: a request for each learner due one, that is with at least
        next_fit_after reviews (as the consumer counted them), unless one is pending. Totals of a
        history reset or erased, which the purge has yet to delete, are passed over: their
        learner's current history is read first (the Scan may be minutes old). The number queued."""
        queued = 0
        now = self._clock()
        for totals in self._store.aggregates.totals_with_reviews(MIN_FIT_REVIEWS):
            owner, reviews = totals["learner"], int(totals["reviews"])
            due = reviews >= next_fit_after(self._store.scheduler.scheduler(owner))
            if not due or not self._is_current(owner):
                continue
            queued += self._queue_fit(owner, now, reviews) is None
        return queued

    def _queue_fit(self, owner: str, now: datetime, counted: int) -> Optional[str]:
        """Mark the owner's fit requested and queue it, unless one is pending (its time). A
        pending request whose message is not known to be queued (its send failed) is queued
        again: the fitting function handles a request once, however many messages name it."""
        at = format_timestamp(now)
        pending = self._store.scheduler.request_fit(
            owner, at, format_timestamp(now - timedelta(seconds=FIT_PENDING_SECONDS)))
        requested = at if pending is None else pending.get(FIT_REQUESTED)
        if requested is None:
            return at  # the pending one was done meanwhile
        if pending is None or pending.get(FIT_SENT) != requested:
            self._fit_queue.send({"owner": owner, "requested_at": requested, "counted": counted})
            self._store.scheduler.fit_sent(owner, requested)
        return None if pending is None else requested

    def request_fit(self, learner: str) -> dict:
        """A fit of the learner's parameters, off the request: one message on the fit queue, and
        at most one pending per learner (a request while one is pending answers that one). Refused
        (TooFewReviews) below MIN_FIT_REVIEWS reviews, as the stream consumer has counted them."""
        owner = self._owner_of(learner)
        reviews = int(self._store.aggregates.aggregate(owner, TOTALS).get("reviews", 0))
        if reviews < MIN_FIT_REVIEWS:
            raise TooFewReviews(reviews, MIN_FIT_REVIEWS)
        now = self._clock()
        pending = self._queue_fit(owner, now, reviews)
        return {"status": "queued", "requested_at": pending or format_timestamp(now),
                "location": SCHEDULER_PATH,
                "message": "The fit runs in the background; GET the location: its source becomes \"fitted\" "
                           "if the fit is adopted, and last_fit tells the outcome either way."}

    def get(self, learner: str) -> dict:
        return scheduler_json(self._store.scheduler.scheduler(self._owner_of(learner)))

    def change(self, learner: str, body) -> dict:
        """A new desired retention, from the learner's next review on; what is due follows once
        their memories are recomputed (seconds)."""
        retention = parse_scheduler_change(body, MIN_RETENTION, MAX_RETENTION)
        owner = self._owner_of(learner)
        for _ in range(CHANGE_ATTEMPTS):
            item = self._store.scheduler.scheduler(owner)
            settings = settings_of(item)
            if settings.desired_retention == retention:
                if RECOMPUTE_PENDING in item:  # a resend of the change: its recompute's send may have failed
                    self._queue.send(owner, int(item[RECOMPUTE_PENDING]))
                return scheduler_json(item)  # nothing changes: no new version
            written = self._store.scheduler.change(owner, {
                "desired_retention": retention, "version": settings.version + 1,
                "parameters": tuple(settings.parameters), "source": item.get("source", DEFAULT),
                RECOMPUTE_PENDING: settings.version + 1}, settings.version)
            if written is not None:
                self._changed(owner)
                self._queue.send(owner, settings.version + 1)
                return scheduler_json(written)
        raise Unavailable(cause="the learner's scheduler kept changing under this change")
