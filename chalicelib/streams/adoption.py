"""A fit of a learner's FSRS parameters (functions/fitting's ``fitLearner``), written to their
scheduler item (chalicelib.storage.scheduler_repository): adopted, new parameters and the next
version, which every memory of theirs is then recomputed with (chalicelib.streams.recompute);
kept, only its figures. Either way only if the scheduler is still at the version the fit was
made against: a fit of parameters that changed meanwhile writes nothing."""
import math
from datetime import datetime
from typing import Optional

from chalicelib.core.scheduling import FITTED, PARAMETER_COUNT, settings_of
from chalicelib.core.validation import format_timestamp
from chalicelib.storage.scheduler_repository import RECOMPUTE_PENDING
from chalicelib.storage.store import Store


def _parameters(candidate) -> tuple:
    if not isinstance(candidate, list) or len(candidate) != PARAMETER_COUNT or not all(
            type(number) in (int, float) and math.isfinite(number) for number in candidate):
        raise ValueError(f"an adopted fit's candidate must be {PARAMETER_COUNT} finite numbers, "
                         f"not {candidate!r}")
    return tuple(float(number) for number in candidate)


def adopt(store: Store, owner: str, fit_result: dict, fitted_version: int, now: datetime,
          queue=None, fit_requested_at: Optional[str] = None, counted: Optional[int] = None
          ) -> Optional[int]:
    """Write ``fit_result`` (fitLearner's answer for the parameters of version ``fitted_version``)
    to the owner's scheduler; the version it leaves, or None when the scheduler is no longer at
    ``fitted_version`` (nothing written). An adopted fit sends the recompute of the owner's
    memories to ``queue`` (its ``send(owner, version)``). ``fit_requested_at``: the fit request
    (chalicelib.streams.fitting) this write ends, and only while it is pending: a redelivered
    request, or one of a learner erased meanwhile, writes nothing. ``counted``: the learner's
    reviews as the stream consumer counted them when the fit was asked for (the nightly rule
    compares with it: the fit itself reads at most MAX_REVIEWS). An evaluation that scored no
    review leaves the last one that did. The recompute is noted pending (RECOMPUTE_PENDING)
    in the same write: should its send fail, the message's redelivery sends it again."""
    at = format_timestamp(now)
    adopted = fit_result.get("adopted") is True
    changes = {"last_fit": {"at": at, "adopted": adopted, "reason": str(fit_result.get("reason")),
                            "reviews": int(fit_result.get("reviews_used", 0))}}
    changes["last_fit"]["counted"] = changes["last_fit"]["reviews"] if counted is None else int(counted)
    evaluation = fit_result.get("evaluation")
    if isinstance(evaluation, dict) and type(evaluation.get("reviews")) is int and evaluation["reviews"] > 0:
        changes["evaluation"] = evaluation
        changes["evaluation_adopted"] = adopted  # whose figures lead it: the candidate's or the current's
    version = fitted_version
    if adopted:
        version = fitted_version + 1
        current = settings_of(store.scheduler.scheduler(owner))
        changes.update({"parameters": _parameters(fit_result.get("candidate")), "source": FITTED,
                        "version": version, "desired_retention": current.desired_retention,
                        "fitted_at": at, "reviews_used": int(fit_result.get("reviews_used", 0)),
                        RECOMPUTE_PENDING: version})
    if store.scheduler.change(owner, changes, fitted_version, fit_requested_at) is None:
        return None
    if adopted and queue is not None:
        queue.send(owner, version)
    return version
