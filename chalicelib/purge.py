"""Deletes the histories that resets left behind (chalicelib.histories), and all of an erased
learner's (chalicelib.data_rights: the erasure moved them to a new epoch), off the request path:
a scheduled function deployed, the local run's poller on `make run`.

A reset marks the learner's history item `purge_pending`; the sparse index PURGES lists those
items, so finding the work reads only them. A run then reads each table once, whatever the
number of learners or resets waiting: one Scan of the sessions, the reviews, the aggregates and
the memories (keys and owners only), keeping the items whose owner is an old epoch of a waiting learner.
Reviews have no index by owner, to keep a review's write units as they are, and an index per
old epoch would make the cost grow with the resets; a Scan costs the tables' size, which is why
resets are off where tables are large (prod). Each learner's items are deleted and its progress
saved on its own: one learner's failure leaves the others purged, and its own purge is run
again next time (deleting is idempotent). The mark is cleared only if no reset happened
meanwhile. The deletions reach the streams as REMOVE records, which the consumer ignores.

A reset is purged only once it is `grace_seconds` old (chalicelib.config.purge_grace_seconds):
a create that read the old epoch just before the reset may still be writing into it, and the
stream consumer may still be counting the old epoch's last records (its iterator age alarm
fires at a minute). Records of an old epoch delivered after that are dropped by the consumer.
"""
import hashlib
import logging
import time
from typing import Callable, Dict, List, Mapping, Tuple

from chalicelib.access import PURGE, running_as
from chalicelib.schema import HISTORY, PURGE_PENDING, PURGES, split_owner
from chalicelib.store import from_item

BATCH_WRITE_MAX = 25  # DynamoDB's limit for one BatchWriteItem
BATCH_WRITE_ATTEMPTS = 8
# What each table's Scan keeps of an item: its key, and the attribute that names its owner.
SCANNED = {"study_sessions": ("owner", ("id",)), "word_reviews": ("owner", ("id",)),
           "aggregates": ("learner", ("learner", "item")), "memories": ("owner", ("scope", "word_id"))}

log = logging.getLogger("study-sessions.purge")


def _pseudonym(learner: str) -> str:
    """What the logs name a learner by: their data may be erased, the logs are kept for days."""
    return hashlib.sha256(learner.encode()).hexdigest()[:16]


class HistoryPurger:
    def __init__(self, client, tables: Mapping[str, str], grace_seconds: float,
                 clock: Callable[[], float] = time.time):
        self._client = client
        self._tables = tables
        self._grace_seconds = grace_seconds
        self._clock = clock

    @running_as(PURGE)
    def purge(self) -> int:
        """Delete every old history whose learner was reset at least the grace period ago; the
        number of items deleted."""
        due: Dict[str, Tuple[int, int]] = {}  # learner -> its old epochs, [purged, epoch)
        erased = set()
        for learner in self._pending():
            state = self._state(learner)
            if self._clock() - state.get("reset_at", 0) >= self._grace_seconds:
                due[learner] = (state.get("purged", 0), state.get("epoch", 0))
                if "erased_at" in state:
                    erased.add(learner)
        if not due:
            return 0
        keys = self._old_items(due)
        deleted = 0
        for learner, (purged, epoch) in due.items():
            try:
                for table, table_keys in keys.get(learner, {}).items():
                    self._delete(table, table_keys)
                    deleted += len(table_keys)
                self._finish(learner, epoch, learner in erased)
            except Exception as error:  # noqa: BLE001 - the others are purged; this one next run
                log.error("purge_failed learner=%s cause=%s: %s", _pseudonym(learner), type(error).__name__,
                          error)
                continue
            log.info("purged learner=%s epochs=%d..%d%s", _pseudonym(learner), purged, epoch - 1,
                     " erased" if learner in erased else "")
        return deleted

    def _old_items(self, due: Dict[str, Tuple[int, int]]) -> Dict[str, Dict[str, List[dict]]]:
        """learner -> table -> keys of the items of its old epochs, from one Scan of each table."""
        found: Dict[str, Dict[str, List[dict]]] = {}
        for table, (owner_attribute, key) in SCANNED.items():
            names = {f"#a{n}": name for n, name in enumerate(dict.fromkeys((owner_attribute, *key)))}
            pages = self._client.get_paginator("scan").paginate(
                TableName=self._tables[table], ProjectionExpression=", ".join(names),
                ExpressionAttributeNames=names)
            for item in (item for page in pages for item in page["Items"]):
                owner_ = item.get(owner_attribute, {}).get("S")
                learner, epoch = split_owner(owner_) if owner_ else (None, None)
                if learner in due and epoch is not None and due[learner][0] <= epoch < due[learner][1]:
                    found.setdefault(learner, {}).setdefault(table, []).append(
                        {name: item[name] for name in key})
        return found

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
        whose key names them (their erased mark is keyed by a hash, chalicelib.schema)."""
        key = {"learner": {"S": learner}, "item": {"S": HISTORY}}
        condition = {"ConditionExpression": "epoch = :epoch",
                     "ExpressionAttributeValues": {":epoch": {"N": str(epoch)}}}
        try:
            if erased:
                self._client.delete_item(TableName=self._tables["aggregates"], Key=key, **condition)
            else:
                self._client.update_item(TableName=self._tables["aggregates"], Key=key, **condition,
                                         UpdateExpression="SET purged = :epoch REMOVE purge_pending")
        except self._client.exceptions.ConditionalCheckFailedException:
            pass  # reset (or erased) again meanwhile: the next run purges that epoch too

    def _delete(self, table: str, keys: List[dict]) -> None:
        name = self._tables[table]
        for start in range(0, len(keys), BATCH_WRITE_MAX):
            request = {name: [{"DeleteRequest": {"Key": key}} for key in keys[start:start + BATCH_WRITE_MAX]]}
            for attempt in range(BATCH_WRITE_ATTEMPTS):
                request = self._client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                if not request:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise RuntimeError(f"DynamoDB left deletes of {table} unprocessed")
