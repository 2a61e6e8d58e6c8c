"""Deletes the histories that resets left behind (chalicelib.learners.histories), and all of an erased
learner's (chalicelib.study.data_rights: the erasure moved them to a new epoch) with their sign-in
account, off the request path: a scheduled function deployed, the local run's poller on `make run`.

A reset marks the learner's history item `purge_pending`; the sparse index PURGES lists those
items, so finding the work reads only them. Each old epoch's items are then found by reading
that epoch's own partitions, never by scanning a table: the cost is the learner's items and
epochs, whatever the tables hold. Of an owner ("<learner>#<epoch>", chalicelib.storage.schema):
  - its memory items (the memories table's partition `owner`, its scheduler's item among them)
    and its aggregates' `word#<id>` items name the words it reviewed (either may be missing: a
    memory rebuilt only for live histories, a record the consumer lost);
  - each word's reviews are one partition of the reviews' index REVIEWS_BY_WORD;
  - its sessions are one partition of the sessions' index SESSIONS_NEWEST;
  - its aggregates, the consumer's markers included, are one partition of the aggregates table.
The reviews are deleted before the memory and aggregate items that lead to
them, so a run stopped half-way finds the rest again next time. Reviews stored before scheduling
are in no index until `make audit REBUILD=1` indexed them (the audit reports them). The indexes
trail their tables by well under a second; the grace below is minutes.

Each learner is purged on its own: one learner's failure is logged and leaves the others
purged, and its own purge is run again next time (deleting is idempotent). The mark is cleared
only if no reset happened meanwhile. An erased learner's account is deleted (by their `sub`,
chalicelib.learners.accounts) before any of their items, at the first run after the erasure: their data
is never gone while the account stays; their history item goes last. The deletions reach the
streams as REMOVE records, which the consumer ignores.

A reset is purged only once it is `grace_seconds` old (chalicelib.config.purge_grace_seconds):
a create that read the old epoch just before the reset may still be writing into it, and the
stream consumer may still be counting the old epoch's last records (its iterator age alarm
fires at a minute). Records of an old epoch delivered after that are dropped by the consumer.
"""
import hashlib
import logging
import time
from typing import Callable, Iterable, List, Mapping, Optional

from chalicelib.storage.access import PURGE, running_as
from chalicelib.storage.dynamo import from_item, to_item
from chalicelib.storage.schema import (
    ERASED_MARK_SECONDS,
    HISTORY,
    PURGE_PENDING,
    PURGES,
    REVIEWS_BY_WORD,
    SCHEDULER_WORD_ID,
    SESSIONS_NEWEST,
    WORD_ITEMS,
    erased_mark,
    owner,
    word_history,
)

BATCH_WRITE_MAX = 25  # DynamoDB's limit for one BatchWriteItem
BATCH_ATTEMPTS = 8

log = logging.getLogger("study-sessions.purge")


def _pseudonym(learner: str) -> str:
    """What the logs name a learner by: their data may be erased, the logs are kept for days."""
    return hashlib.sha256(learner.encode()).hexdigest()[:16]


class HistoryPurger:
    def __init__(self, client, tables: Mapping[str, str], grace_seconds: float,
                 clock: Callable[[], float] = time.time,
                 delete_account: Optional[Callable[[str], None]] = None):
        """``delete_account(sub)``: removes an erased learner's sign-in account (None on a stage
        without sign-in, which has no erasures)."""
        self._client = client
        self._tables = tables
        self._grace_seconds = grace_seconds
        self._clock = clock
        self._delete_account = delete_account

    @running_as(PURGE)
    def purge(self) -> int:
        """Delete every old history whose learner was reset at least the grace period ago, and
        erased learners' accounts; the number of items deleted."""
        deleted = 0
        for learner in self._pending():
            try:
                deleted += self._purge(learner)
            except Exception as error:  # noqa: BLE001 - the others are purged; this one next run
                log.error("purge_failed learner=%s cause=%s: %s", _pseudonym(learner), type(error).__name__,
                          error)
        return deleted

    def _purge(self, learner: str) -> int:
        state = self._state(learner)
        erased = "erased_at" in state
        if erased and self._delete_account is not None:
            self._delete_account(learner)  # first: never their data gone and their account kept
        if self._clock() - state.get("reset_at", 0) < self._grace_seconds:
            return 0
        purged, epoch = state.get("purged", 0), state.get("epoch", 0)
        deleted = sum(self._delete_history(owner(learner, old)) for old in range(purged, epoch))
        self._finish(learner, epoch, erased)
        log.info("purged learner=%s epochs=%d..%d%s", _pseudonym(learner), purged, epoch - 1,
                 " erased" if erased else "")
        return deleted

    def _delete_history(self, owner_: str) -> int:
        """Every item of one owner, each found in its own partition."""
        aggregates = self._keys("aggregates", "learner", owner_)
        states = self._keys("memories", "scope", owner_)
        # the words reviewed: each has a memory item, and the consumer counted it (word#<id>); the
        # scheduler's item (SCHEDULER_WORD_ID) is no word, and goes with the memory items
        scheduler = str(SCHEDULER_WORD_ID)
        words = sorted({key["word_id"]["N"] for key in states if key["word_id"]["N"] != scheduler} | {
            key["item"]["S"][len(WORD_ITEMS):] for key in aggregates
            if key["item"]["S"].startswith(WORD_ITEMS)}, key=int)
        deleted = 0
        for word in words:
            deleted += self._delete("word_reviews", self._keys(
                "word_reviews", "owner_word", word_history(owner_, int(word)), REVIEWS_BY_WORD.name))
        deleted += self._delete("memories", states)
        sessions = self._keys("study_sessions", "owner", owner_, SESSIONS_NEWEST.name)
        deleted += self._delete("study_sessions", sessions)
        return deleted + self._delete("aggregates", aggregates)

    def _keys(self, table: str, attribute: str, value: str, index: Optional[str] = None) -> List[dict]:
        """The table keys of the items of one partition (of the table, or of its ``index``)."""
        key = {"study_sessions": ("id",), "word_reviews": ("id",), "aggregates": ("learner", "item"),
               "memories": ("scope", "word_id")}[table]
        names = {f"#k{n}": name for n, name in enumerate(key)}
        params = {"TableName": self._tables[table], "KeyConditionExpression": "#p = :p",
                  "ProjectionExpression": ", ".join(names),
                  "ExpressionAttributeNames": {"#p": attribute, **names},
                  "ExpressionAttributeValues": {":p": {"S": value}}}
        if index:
            params["IndexName"] = index
        else:
            params["ConsistentRead"] = True
        pages = self._client.get_paginator("query").paginate(**params)
        return [{name: item[name] for name in key} for page in pages for item in page["Items"]]

    def _pending(self) -> List[str]:
        pages = self._client.get_paginator("query").paginate(
            TableName=self._tables["aggregates"], IndexName=PURGES.name,
            KeyConditionExpression="purge_pending = :pending",
            ExpressionAttributeValues={":pending": {"S": PURGE_PENDING}})
        return [item["learner"]["S"] for page in pages for item in page["Items"]]

    def _state(self, learner: str) -> dict:
        answer = self._client.get_item(TableName=self._tables["aggregates"], ConsistentRead=True,
                                       Key={"learner": {"S": learner}, "item": {"S": HISTORY}})
        return from_item(answer.get("Item", {}))

    def _finish(self, learner: str, epoch: int, erased: bool) -> None:
        """Clear the learner's mark; an erased learner's history item goes too, the last item
        whose key names them (their erased mark is keyed by a hash, chalicelib.storage.schema)."""
        key = {"learner": {"S": learner}, "item": {"S": HISTORY}}
        condition = {"ConditionExpression": "epoch = :epoch",
                     "ExpressionAttributeValues": {":epoch": {"N": str(epoch)}}}
        try:
            if erased:
                self._let_mark_expire(learner)
                self._client.delete_item(TableName=self._tables["aggregates"], Key=key, **condition)
            else:
                self._client.update_item(TableName=self._tables["aggregates"], Key=key, **condition,
                                         UpdateExpression="SET purged = :epoch REMOVE purge_pending")
        except self._client.exceptions.ConditionalCheckFailedException:
            pass  # reset (or erased) again meanwhile: the next run purges that epoch too

    def _let_mark_expire(self, learner: str) -> None:
        """The erased mark refuses the learner's tokens and the consumer their records; it is
        kept until their account and data are gone, then lives ERASED_MARK_SECONDS more (longer
        than any token or stream record of theirs), however long the purge took to get there.
        Written back whole with its expiry, in the batch write the purge deletes with."""
        table = self._tables["aggregates"]
        mark = self._client.get_item(TableName=table, Key=to_item(erased_mark(learner)),
                                     ConsistentRead=True).get("Item")
        if mark is not None:
            mark["expires_at"] = {"N": str(int(self._clock()) + ERASED_MARK_SECONDS)}
            for _ in self._batched("batch_write_item", {table: [{"PutRequest": {"Item": mark}}]},
                                   "UnprocessedItems"):
                pass

    def _delete(self, table: str, keys: List[dict]) -> int:
        name = self._tables[table]
        for start in range(0, len(keys), BATCH_WRITE_MAX):
            request = {name: [{"DeleteRequest": {"Key": key}} for key in keys[start:start + BATCH_WRITE_MAX]]}
            for _ in self._batched("batch_write_item", request, "UnprocessedItems"):
                pass
        return len(keys)

    def _batched(self, operation: str, request: dict, unprocessed: str,
                 answered: Optional[str] = None) -> Iterable[list]:
        """One batch call, asked again for what DynamoDB left unprocessed; yields each answer's items."""
        for attempt in range(BATCH_ATTEMPTS):
            answer = getattr(self._client, operation)(RequestItems=request)
            if answered:
                yield from answer.get(answered, {}).values()
            request = answer.get(unprocessed) or {}
            if not request:
                return
            time.sleep(0.05 * 2**attempt)
        raise RuntimeError(f"DynamoDB left a {operation} unprocessed")
