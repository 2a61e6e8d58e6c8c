"""Reviews and the transaction that writes them: a review (or a round) and the memory of its
words, all or none; its session and its words' memory read before it, in one call; a word's
answers read back to replay them. The session's figures are the stream consumer's
(chalicelib.streams.aggregates)."""
import random
import time
import uuid
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from botocore.exceptions import ClientError

from chalicelib.core.errors import Unavailable
from chalicelib.core.scheduling import Answer, MemoryUpdate
from chalicelib.storage.dynamo import Item, Repository, from_item, to_attribute, to_item, translate_errors
from chalicelib.storage.schema import REVIEWS_BY_WORD, SCHEDULER_WORD_ID, word_history

TRANSACTION_CONFLICT_ATTEMPTS = 8
HISTORY_INDEX_ATTEMPTS = 5  # reads of a word's reviews while the index trails the memory item


class ReviewRefused(Exception):
    """The review transaction was cancelled by its conditions; each says which."""

    def __init__(self, existing: List[Item], memory_stale: bool):
        super().__init__("review refused")
        self.existing = existing  # reviews already stored under these ids
        self.memory_stale = memory_stale  # another review of a word changed its memory first


def _refusal(error: ClientError, reasons: List[Optional[str]], review_count: int) -> Exception:
    if set(reasons) & {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}:
        return Unavailable(cause=f"DynamoDB transaction throttled: {reasons}", throttled=True)
    if set(reasons) - {"None", "ConditionalCheckFailed"}:
        return error
    details = error.response["CancellationReasons"]
    puts, memories = details[:review_count], details[review_count:]
    return ReviewRefused(
        existing=[from_item(put["Item"]) for put in puts if put.get("Code") == "ConditionalCheckFailed"],
        memory_stale=any(memory.get("Code") == "ConditionalCheckFailed" for memory in memories))


def memory_condition(applied: Optional[int], version: int) -> dict:
    """The condition of a memory item's write: the stored state is still the one it was computed
    from, its count of reviews (``applied``, None: no item) and the scheduler version it was
    computed with (absent: 0), so a recompute in between refuses it too."""
    if applied is None:
        return {"ConditionExpression": "attribute_not_exists(#scope)",
                "ExpressionAttributeNames": {"#scope": "scope"}}
    same = "#version = :version" + (" OR attribute_not_exists(#version)" if version == 0 else "")
    return {"ConditionExpression": f"applied = :applied AND ({same})",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":applied": to_attribute(applied),
                                          ":version": to_attribute(version)}}


class ReviewRepository(Repository):
    def __init__(self, client, tables, attempts):
        super().__init__(client, tables, attempts)
        self._reviews = tables["word_reviews"]
        self._sessions = tables["study_sessions"]
        self._memories = tables["memories"]

    @translate_errors
    def session_and_memories(self, session_id: str, owner: str, word_ids: Iterable[int]
                             ) -> Tuple[Optional[Item], Dict[int, Item], Item]:
        """The session, the owner's memory of these words (words never reviewed left out) and
        their scheduler item (SCHEDULER_WORD_ID; empty when none), read strongly consistent in
        one call."""
        keys = [(self._sessions, {"id": session_id})]
        keys += [(self._memories, {"scope": owner, "word_id": id_})
                 for id_ in sorted(set(word_ids) | {SCHEDULER_WORD_ID})]
        session, memories = None, {}
        for table, item in self._batch_get_all(keys, consistent=True):
            if table == self._sessions:
                session = item
            else:
                memories[item["word_id"]] = item
        return session, memories, memories.pop(SCHEDULER_WORD_ID, {})

    @translate_errors
    def record_reviews(self, reviews: List[Item], memories: Sequence[MemoryUpdate]) -> None:
        """Store the reviews of one session and write the memory of their words, in one
        transaction: all or none. ``memories``: each word's new state, written only if its
        stored state is still the one it was computed from.
        Raises ReviewRefused when a condition fails."""
        items = [{"Put": {
            "TableName": self._reviews, "Item": to_item(review),
            "ConditionExpression": "attribute_not_exists(id)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}} for review in reviews]
        items += self._memory_writes(reviews[0]["owner"], memories)
        started = time.monotonic()
        for attempt in range(TRANSACTION_CONFLICT_ATTEMPTS):
            try:
                # The token makes a resend of a lost answer a no-op for 10 minutes.
                self._call("transact_write_items", write=True,
                           TransactItems=items, ClientRequestToken=uuid.uuid4().hex)
                return
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
                if "TransactionConflict" not in reasons:
                    raise _refusal(error, reasons, len(reviews)) from None
            # another review of these words was being written
            if not self._attempts.pause(random.uniform(0.005, 0.02 * 2**attempt), started):
                break
        raise Unavailable(cause="DynamoDB transaction conflicts on one word's memory persisted")

    def _memory_writes(self, owner: str, memories: Sequence[MemoryUpdate]) -> List[dict]:
        """Per word its state, conditional on the one it was computed from."""
        return [{"Put": {"TableName": self._memories, "Item": to_item(
            {"scope": owner, "word_id": memory.word_id, "owner": owner, **memory.fields}),
            **memory_condition(memory.applied_before, memory.version_before)}} for memory in memories]

    def wait_after_conflict(self, conflicts: int, started: float) -> bool:
        """A jittered, growing pause before computing a write again that lost a race; False when
        one more attempt would not end inside the request's budget."""
        return self._attempts.pause(random.uniform(0.002, min(0.05, 0.005 * 2**conflicts)), started)

    @translate_errors
    def word_history(self, owner: str, word_id: int, expected: int) -> List[Answer]:
        """The owner's stored answers of a word, from the index REVIEWS_BY_WORD; ``expected``:
        how many its memory item counts. An index trails its table for a moment: read again
        until it holds them all."""
        started = time.monotonic()
        for attempt in range(HISTORY_INDEX_ATTEMPTS):
            items = self._every_page("query", {
                "TableName": self._reviews, "IndexName": REVIEWS_BY_WORD.name,
                "KeyConditionExpression": "owner_word = :word",
                "ExpressionAttributeValues": {":word": {"S": word_history(owner, word_id)}}})
            if len(items) >= expected:
                return [Answer(item["reviewed_key"], item["correct"]) for item in items]
            if not self._attempts.pause(0.05 * 2**attempt, started):
                break
        raise Unavailable(cause="the reviews index trails the memory of a word")

    @translate_errors
    def get_reviews(self, review_ids: Sequence[str]) -> List[Item]:
        """The reviews with these ids, in the order asked."""
        return self._by_ids(self._reviews, review_ids)

    @translate_errors
    def partition_page(self, owner_word: str, limit: int, after=None):
        """A page of one owner's answers of one word (REVIEWS_BY_WORD), by time, after ``after``."""
        keys = (REVIEWS_BY_WORD.partition_key[0], REVIEWS_BY_WORD.sort_key[0])
        return self._partition_page(self._reviews, keys, owner_word, limit, after, REVIEWS_BY_WORD.name)
