"""What each deployed function may call, the one declaration of it: `make package` writes each
function's role from it (devtools/package.py), and the tests hold every call a function makes
against the role so written, as AWS would (tests/roles.py). A function's entry point says which
function runs (``running_as``), so a call is checked against its own role only.

Actions are DynamoDB's IAM actions per logical table (chalicelib.storage.schema.TABLES); ``indexes``
are the indexes the function queries, each granted on its own ARN. A TransactWriteItems is
authorised item by item (PutItem, UpdateItem, DeleteItem, ConditionCheckItem), so only those
appear here. Every grant is used: the role tests fail on one that no call of theirs needed."""
import contextvars
from contextlib import contextmanager
from typing import Dict, Iterator, NamedTuple, Optional, Tuple

from chalicelib.storage.schema import (
    PURGES,
    REVIEWS_BY_WORD,
    SESSIONS_BY_ACTIVITY,
    SESSIONS_BY_GROUP,
    SESSIONS_NEWEST,
)

API = "api"
AGGREGATES = "aggregates"
PURGE = "purge"
FITTING = "fitting"
RECOMPUTE = "recompute"
FIT_DUE = "fit_due"


class TableAccess(NamedTuple):
    actions: Tuple[str, ...]
    indexes: Tuple[str, ...] = ()  # queried: "Query" on <table>/index/<name>
    with_resets: Tuple[str, ...] = ()  # needed only where the stage lets learners reset (RESET_HISTORY)


class FunctionAccess(NamedTuple):
    tables: Dict[str, TableAccess]
    cognito: Tuple[str, ...] = ()  # cognito-idp actions on the stage's user pool
    streams: Tuple[str, ...] = ()  # tables whose stream feeds the function (its event source mapping)


FUNCTIONS: Dict[str, FunctionAccess] = {
    API: FunctionAccess(
        tables={
            # reference data, cached: every group, activity and word read at once, or by id
            "groups": TableAccess(("BatchGetItem", "Scan")),
            "study_activities": TableAccess(("BatchGetItem", "Scan")),
            "words": TableAccess(("BatchGetItem", "Scan")),
            # a create; a session page; a review's read of its session with its words' memory
            "study_sessions": TableAccess(
                ("PutItem", "GetItem", "BatchGetItem"),
                (SESSIONS_NEWEST.name, SESSIONS_BY_GROUP.name, SESSIONS_BY_ACTIVITY.name)),
            # a review (in its transaction), a round's reviews after their commit (BatchWriteItem);
            # a keyed round's ids looked up; a word's reviews replayed when one arrives late; the
            # export's reviews
            "word_reviews": TableAccess(("PutItem", "BatchWriteItem", "BatchGetItem"),
                                        (REVIEWS_BY_WORD.name,)),
            # list totals and figures; the learner's epoch with the erased mark (BatchGetItem);
            # a reset (UpdateItem); an erasure's mark (GetItem, PutItem) and hand-over (UpdateItem)
            "aggregates": TableAccess(("GetItem", "BatchGetItem", "Query", "UpdateItem", "PutItem")),
            # the words' memory and the learner's scheduler: read before a review, written in its
            # transaction; the learner's partition read for what is due and for the export; the
            # scheduler read (GetItem) and changed (UpdateItem) by /api/me/scheduler
            "memories": TableAccess(("BatchGetItem", "Query", "PutItem", "GetItem", "UpdateItem")),
        },
    ),
    AGGREGATES: FunctionAccess(
        # one read of what a chunk of records touches, then its transaction: markers and counters,
        # and the reviews' counts and end_time on their sessions
        tables={"aggregates": TableAccess(("BatchGetItem", "PutItem", "UpdateItem")),
                "study_sessions": TableAccess(("BatchGetItem", "UpdateItem")),
                # a committed round's reviews that a crash left unwritten (chalicelib.streams.rounds)
                "word_reviews": TableAccess(("BatchGetItem", "PutItem"))},
        streams=("study_sessions", "word_reviews", "memories"),
    ),
    PURGE: FunctionAccess(
        tables={
            # the pending purges (its index), each learner's state, its progress and last its item
            # (a reset's purge saves its progress; an erasure's deletes the history item); each
            # old epoch's partitions, read and deleted (chalicelib.streams.purge)
            "aggregates": TableAccess(("GetItem", "DeleteItem", "Query", "BatchWriteItem"), (PURGES.name,),
                                      with_resets=("UpdateItem",)),
            "study_sessions": TableAccess(("BatchWriteItem",), (SESSIONS_NEWEST.name,)),
            "word_reviews": TableAccess(("BatchWriteItem",), (REVIEWS_BY_WORD.name,)),
            "memories": TableAccess(("Query", "BatchWriteItem")),
        },
        # an erased learner's account, found by their sub and deleted (chalicelib.learners.accounts)
        cognito=("ListUsers", "AdminDeleteUser"),
    ),
}

FUNCTIONS[FITTING] = FunctionAccess(
    tables={
        # the learner's scheduler read, and the fit's answer written to it (UpdateItem, conditional);
        # their memory items paged through by word (Query) for the words they reviewed
        "memories": TableAccess(("GetItem", "Query", "UpdateItem")),
        # each word's reviews, from the index only
        "word_reviews": TableAccess((), (REVIEWS_BY_WORD.name,)),
        # the learner's epoch with the erased mark (BatchGetItem): a history reset or erased is not fitted
        "aggregates": TableAccess(("BatchGetItem",)),
    },
)
FUNCTIONS[FIT_DUE] = FunctionAccess(
    tables={
        # the learners with enough reviews: one filtered Scan of the totals; each due one's epoch
        # with the erased mark (BatchGetItem): a history reset or erased is not fitted
        "aggregates": TableAccess(("BatchGetItem", "Scan")),
        # each one's scheduler read (its last fit), and the request marked (UpdateItem, conditional)
        "memories": TableAccess(("GetItem", "UpdateItem")),
    },
)
FUNCTIONS[RECOMPUTE] = FunctionAccess(
    tables={
        # the learner's scheduler and a word's memory read again (GetItem), their memory items
        # paged through (Query), each one behind rewritten on condition (PutItem); the recompute
        # no longer pending once done (UpdateItem, conditional)
        "memories": TableAccess(("GetItem", "Query", "PutItem", "UpdateItem")),
        # each word behind replayed from its reviews, from the index only
        "word_reviews": TableAccess((), (REVIEWS_BY_WORD.name,)),
        # the learner's epoch with the erased mark (BatchGetItem): a history reset or erased is left alone
        "aggregates": TableAccess(("BatchGetItem",)),
    },
)

_RUNNING: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("function", default=None)


@contextmanager
def running_as(function: str) -> Iterator[None]:
    """Marks the calls made inside as the named function's, whose role must grant them."""
    token = _RUNNING.set(function)
    try:
        yield
    finally:
        _RUNNING.reset(token)


def running() -> Optional[str]:
    """The function whose code is running, or None outside every function (tools, tests' setup)."""
    return _RUNNING.get()
