"""The learner's scheduler (GET and PUT /api/me/scheduler): the FSRS parameters their memories are
computed with (fsrs's defaults until a fit of their own reviews is adopted,
chalicelib.streams.adoption) and the desired retention they choose.

A change writes the scheduler's next version (one conditional UpdateItem) and hands the
recompute of the learner's memories to ``recompute_queue`` (its ``send(owner, version)``): the
request does not wait for it. Until a memory is recomputed it keeps its old `due`; a review of
the word meanwhile replays it with the new settings (chalicelib.core.scheduling)."""
from typing import Callable, Optional

from chalicelib.core.errors import Unavailable
from chalicelib.core.scheduling import DEFAULT, FITTED, MAX_RETENTION, MIN_RETENTION, settings_of
from chalicelib.core.validation import parse_scheduler_change
from chalicelib.storage.dynamo import Item
from chalicelib.storage.store import Store

CHANGE_ATTEMPTS = 4  # another change of the same scheduler came first: read it again
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
            "next_fit_after": item.get("next_fit_after")}


class LearnerScheduler:
    def __init__(self, store: Store, owner_of: Callable[[str], str], recompute_queue,
                 changed: Callable[[str], None] = lambda owner: None):
        """``owner_of(learner)``: the owner of the learner's current history;
        ``recompute_queue.send(owner, version)``: recompute the owner's memories, off the request;
        ``changed(owner)``: told of each change (this function's reviews forget what they kept)."""
        self._store = store
        self._owner_of = owner_of
        self._queue = recompute_queue
        self._changed = changed

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
                return scheduler_json(item)  # nothing changes: no new version, nothing to recompute
            written = self._store.scheduler.change(owner, {
                "desired_retention": retention, "version": settings.version + 1,
                "parameters": tuple(settings.parameters), "source": item.get("source", DEFAULT)},
                settings.version)
            if written is not None:
                self._changed(owner)
                self._queue.send(owner, settings.version + 1)
                return scheduler_json(written)
        raise Unavailable(cause="the learner's scheduler kept changing under this change")
