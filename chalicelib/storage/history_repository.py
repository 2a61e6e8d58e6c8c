"""A learner's history item (their epoch, what the purge has deleted) and their erased mark, in
the aggregates table: who the learner's data belongs to now, and whether they erased it."""
import time
from typing import Tuple

from botocore.exceptions import ClientError

from chalicelib.core.errors import Unavailable
from chalicelib.storage.dynamo import Item, Repository, from_item, to_item, translate_errors
from chalicelib.storage.schema import ERASED, HISTORY, PURGE_PENDING, erased_mark


class HistoryRepository(Repository):
    def __init__(self, client, tables, attempts):
        super().__init__(client, tables, attempts)
        self._aggregates = tables["aggregates"]

    @translate_errors
    def learner_state(self, learner: str, with_epoch: bool) -> Tuple[int, bool]:
        """The learner's epoch (0 unless asked for) and whether they erased their account: one
        strongly consistent read of their history item and their erased mark."""
        keys = [(self._aggregates, erased_mark(learner))]
        if with_epoch:
            keys.append((self._aggregates, {"learner": learner, "item": HISTORY}))
        found = {item["item"]: item for _, item in self._batch_get_all(keys, consistent=True)}
        return found.get(HISTORY, {}).get("epoch", 0), ERASED in found

    @translate_errors
    def erasure(self, learner: str) -> Item:
        """The learner's erased mark, read strongly consistent: `erased_at`, and `handed_over`
        once every epoch went to the purge; empty if they never erased their account."""
        answer = self._call("get_item", TableName=self._aggregates, ConsistentRead=True,
                            Key=to_item(erased_mark(learner)))
        return from_item(answer.get("Item", {}))

    @translate_errors
    def mark_erased(self, learner: str, now: int) -> int:
        """Mark the learner erased, unless they are; when they were (epoch seconds)."""
        mark = {**erased_mark(learner), "erased_at": now}  # it expires once the purge is done
        try:
            self._call("put_item", write=True, TableName=self._aggregates, Item=to_item(mark),
                       ConditionExpression="attribute_not_exists(learner)",
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
            return now
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            existing = error.response.get("Item")
            return from_item(existing)["erased_at"] if existing else now

    @translate_errors
    def purge_every_epoch(self, learner: str, erased_at: int, now: int) -> None:
        """Hand every epoch of the learner's history to the purge (chalicelib.streams.purge), which then
        deletes their account and history item too, and note it on their erased mark: one
        transaction, done once (a resend, or a second erasure, finds the mark noted and moves
        nothing). After mark_erased, never in one transaction with it: a request reads the two
        without isolation, and must not see the new epoch without the mark."""
        noted = {"TableName": self._aggregates, "Key": to_item(erased_mark(learner)),
                 "UpdateExpression": "SET handed_over = :now",
                 "ConditionExpression": "attribute_exists(learner) AND attribute_not_exists(handed_over)",
                 "ExpressionAttributeValues": to_item({":now": now})}
        moved = {"TableName": self._aggregates, "Key": to_item({"learner": learner, "item": HISTORY}),
                 "UpdateExpression": "ADD epoch :one "
                                     "SET purge_pending = :pending, reset_at = :now, erased_at = :erased",
                 "ExpressionAttributeValues": to_item({":one": 1, ":pending": PURGE_PENDING, ":now": now,
                                                       ":erased": erased_at})}
        try:
            self._call("transact_write_items", write=True,
                       TransactItems=[{"Update": noted}, {"Update": moved}])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if "TransactionConflict" in reasons:
                raise Unavailable(cause="a concurrent erasure of the same learner") from None
            if reasons[:1] != ["ConditionalCheckFailed"]:
                raise
            # handed over already: by this request's first attempt, or by a concurrent resend

    @translate_errors
    def epoch(self, learner: str) -> int:
        """How many times the learner's history was reset (chalicelib.learners.histories)."""
        return self.history(learner).get("epoch", 0)

    @translate_errors
    def history(self, learner: str) -> Item:
        """The learner's history item: epoch, purged (the epochs before it are deleted); empty
        before the first reset."""
        answer = self._call("get_item", TableName=self._aggregates, ConsistentRead=True,
                            Key={"learner": {"S": learner}, "item": {"S": HISTORY}})
        return from_item(answer.get("Item", {}))

    @translate_errors
    def start_new_history(self, learner: str) -> None:
        """Move the learner to the next epoch, and list the old one for deletion from now on
        (chalicelib.streams.purge). Not conditional: a resend after a lost answer moves one epoch
        further, which is as empty."""
        self._call("update_item", write=True, TableName=self._aggregates,
                   Key={"learner": {"S": learner}, "item": {"S": HISTORY}},
                   UpdateExpression="ADD epoch :one SET purge_pending = :pending, reset_at = :now",
                   ExpressionAttributeValues={":one": {"N": "1"}, ":pending": {"S": PURGE_PENDING},
                                              ":now": {"N": str(int(time.time()))}})
