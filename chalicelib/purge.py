"""Deletes the histories that resets left behind (chalicelib.histories), off the request path:
a scheduled function deployed, the local run's poller on `make run`.

A reset marks the learner's epoch item `purge_pending`; the sparse index PURGES lists those
items, so finding the work reads only them. For each old owner this deletes its sessions (found
through its own index partition), its aggregate items (its partition of the aggregates table)
and its reviews. Reviews have no index by owner, to keep a review's write units as they are:
they are found with a Scan of the reviews table, which is why resets are off where tables are
large (prod). Deleting is idempotent, so a purge interrupted half-way is simply run again; the
marker is cleared only if no reset happened meanwhile. The deletions reach the streams as
REMOVE records, which the aggregates consumer ignores.

A reset is purged only once it is `grace_seconds` old: a create that read the old epoch just
before the reset may still be writing into it (for up to its request budget), and the stream
consumer may still be counting the old epoch's last records (its iterator age alarm fires at a
minute). Purged earlier, those would stay behind, unlisted: a session no purge comes back for,
an aggregate the audit reports.
"""
import logging
import time
from typing import Callable, List, Mapping

from chalicelib.schema import HISTORY, PURGE_PENDING, PURGES, SESSIONS_NEWEST, owner
from chalicelib.store import from_item

BATCH_WRITE_MAX = 25  # DynamoDB's limit for one BatchWriteItem
BATCH_WRITE_ATTEMPTS = 8
DEFAULT_GRACE_SECONDS = 600

log = logging.getLogger("study-sessions.purge")


class HistoryPurger:
    def __init__(self, client, tables: Mapping[str, str], grace_seconds: float = DEFAULT_GRACE_SECONDS,
                 clock: Callable[[], float] = time.time):
        self._client = client
        self._tables = tables
        self._grace_seconds = grace_seconds
        self._clock = clock

    def purge(self) -> int:
        """Delete every old history whose learner was reset at least the grace period ago; the
        number of items deleted."""
        deleted = 0
        for learner in self._pending():
            state = self._state(learner)
            if self._clock() - state.get("reset_at", 0) < self._grace_seconds:
                continue  # the next run
            epoch, purged = state.get("epoch", 0), state.get("purged", 0)
            for old in range(purged, epoch):
                deleted += self._delete_history(owner(learner, old))
            self._finish(learner, epoch)
            log.info("purged learner=%s epochs=%d..%d", learner, purged, epoch - 1)
        return deleted

    def _pending(self) -> List[str]:
        return [item["learner"] for item in self._every_page("query", {
            "TableName": self._tables["aggregates"], "IndexName": PURGES.name,
            "KeyConditionExpression": "purge_pending = :pending",
            "ExpressionAttributeValues": {":pending": {"S": PURGE_PENDING}}})]

    def _state(self, learner: str) -> dict:
        answer = self._client.get_item(TableName=self._tables["aggregates"], ConsistentRead=True,
                                       Key={"learner": {"S": learner}, "item": {"S": HISTORY}})
        return from_item(answer.get("Item", {}))

    def _finish(self, learner: str, epoch: int) -> None:
        try:
            self._client.update_item(
                TableName=self._tables["aggregates"],
                Key={"learner": {"S": learner}, "item": {"S": HISTORY}},
                UpdateExpression="SET purged = :epoch REMOVE purge_pending",
                ConditionExpression="epoch = :epoch",
                ExpressionAttributeValues={":epoch": {"N": str(epoch)}})
        except self._client.exceptions.ConditionalCheckFailedException:
            pass  # reset again meanwhile: the next run purges that epoch too

    def _delete_history(self, old_owner: str) -> int:
        sessions = self._every_page("query", {
            "TableName": self._tables["study_sessions"], "IndexName": SESSIONS_NEWEST.name,
            "KeyConditionExpression": "#owner = :owner", "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {":owner": {"S": old_owner}}})
        aggregates = self._every_page("query", {
            "TableName": self._tables["aggregates"], "KeyConditionExpression": "learner = :owner",
            "ExpressionAttributeValues": {":owner": {"S": old_owner}}})
        reviews = self._every_page("scan", {
            "TableName": self._tables["word_reviews"], "ProjectionExpression": "id",
            "FilterExpression": "#owner = :owner", "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {":owner": {"S": old_owner}}})
        self._delete("study_sessions", [{"id": {"S": item["id"]}} for item in sessions])
        self._delete("word_reviews", [{"id": {"S": item["id"]}} for item in reviews])
        self._delete("aggregates", [{"learner": {"S": item["learner"]}, "item": {"S": item["item"]}}
                                    for item in aggregates])
        return len(sessions) + len(reviews) + len(aggregates)

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

    def _every_page(self, operation: str, params: dict) -> List[dict]:
        pages = self._client.get_paginator(operation).paginate(**params)
        return [from_item(item) for page in pages for item in page["Items"]]
