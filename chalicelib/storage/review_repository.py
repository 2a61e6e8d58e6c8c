"""Reviews and the transactions that write them; their session and their words' memory read
before them, in one call; a word's answers read back to replay them. The session's figures are
the stream consumer's (chalicelib.streams.aggregates).

One review is written with its word's memory in one transaction. A round's transaction holds
only its words' memory items, each carrying the round's reviews of its word (ROUND_REVIEWS):
that is the round's commit point, all or none. Its reviews' own items are written next, outside
it (a transaction bills each item twice); what a crash leaves unwritten, the stream consumer
writes from the memory items' records (chalicelib.streams.rounds)."""
import json
import logging
import random
import time
import uuid
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from botocore.exceptions import ClientError

from chalicelib.core.errors import Unavailable
from chalicelib.core.scheduling import Answer, MemoryUpdate
from chalicelib.storage.dynamo import Item, Repository, from_item, to_attribute, to_item, translate_errors
from chalicelib.storage.schema import (
    REVIEWS_BY_WORD,
    ROUND_MARK,
    ROUND_REVIEWS,
    SCHEDULER_WORD_ID,
    word_history,
)

TRANSACTION_CONFLICT_ATTEMPTS = 8
HISTORY_INDEX_ATTEMPTS = 5  # reads of a word's reviews while the index trails the memory item
BATCH_WRITE_MAX_ITEMS = 25
BATCH_WRITE_ATTEMPTS = 6
# Later writes of a word keep the copies of a round's reviews its memory item carries for this
# long after the round (by the time in their order, a UUIDv7): past a crash, a throttled write
# of the reviews or the consumer's lag, a keyed resend still finds them and a late review still
# replays them; then they go, so that an item does not grow with the word's history.
CARRY_SECONDS = 10
# ... and only while they are small (about one answer of the word: its item stays within 1 KB, a
# write unit), so that a review after a long drill does not pay for the drill's copies.
CARRY_BYTES = 700
# what a round's review shares with its memory item, left out of the copy the item carries
SHARED_WITH_MEMORY = ("owner", "word_id", "owner_word")  # and its id, the copy's key

log = logging.getLogger(__name__)


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


def still_carried(copies: Dict[str, Item], now: float) -> Dict[str, Item]:
    """The round reviews a memory item carries that its next write keeps (CARRY_SECONDS)."""
    kept = {}
    for id_, copy in copies.items():
        order = copy["reviewed_key"].split("#", 1)[-1].replace("-", "")
        if now - int(order[:12], 16) / 1000 < CARRY_SECONDS:
            kept[id_] = copy
    return kept


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
    def session_and_memories(self, session_id: str, owner: str, word_ids: Iterable[int],
                             review_ids: Sequence[str] = ()
                             ) -> Tuple[Optional[Item], Dict[int, Item], Item, List[Item]]:
        """The session, the owner's memory of these words (words never reviewed left out), their
        scheduler item (SCHEDULER_WORD_ID; empty when none), and the reviews stored under
        ``review_ids``, read strongly consistent in one call."""
        keys = [(self._sessions, {"id": session_id})]
        keys += [(self._memories, {"scope": owner, "word_id": id_})
                 for id_ in sorted(set(word_ids) | {SCHEDULER_WORD_ID})]
        keys += [(self._reviews, {"id": id_}) for id_ in dict.fromkeys(review_ids)]
        session, memories, reviews = None, {}, []
        for table, item in self._batch_get_all(keys, consistent=True):
            if table == self._sessions:
                session = item
            elif table == self._memories:
                memories[item["word_id"]] = item
            else:
                reviews.append(item)
        return session, memories, memories.pop(SCHEDULER_WORD_ID, {}), reviews

    @translate_errors
    def record_reviews(self, reviews: List[Item], memories: Sequence[MemoryUpdate],
                       stored: Dict[int, Item]) -> Dict[int, Dict[str, Item]]:
        """Store the reviews of one session and write the memory of their words, in one
        transaction: all or none. ``memories``: each word's new state, written only if its
        stored state (``stored``) is still the one it was computed from. The round reviews each
        memory item carries (still_carried). Raises ReviewRefused when a condition fails."""
        items = [{"Put": {
            "TableName": self._reviews, "Item": to_item(review),
            "ConditionExpression": "attribute_not_exists(id)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}} for review in reviews]
        copies = self._copies(memories, stored, {})
        self._transact(items + self._memory_writes(reviews[0]["owner"], memories, copies), len(reviews))
        return copies

    @translate_errors
    def record_round(self, reviews: List[Item], memories: Sequence[MemoryUpdate],
                     stored: Dict[int, Item]) -> Dict[int, Dict[str, Item]]:
        """Commit a round: its words' memory in one transaction, each item carrying the round's
        reviews of its word; then the reviews' own items. Raises ReviewRefused when a memory
        changed since it was read; once committed, a failure to write the reviews is left to
        the stream consumer (chalicelib.streams.rounds) and the round stands. The round reviews
        each memory item carries."""
        own: Dict[int, Dict[str, Item]] = {}
        for review in reviews:
            own.setdefault(review["word_id"], {})[review["id"]] = {
                name: value for name, value in review.items() if name not in (*SHARED_WITH_MEMORY, "id")}
        copies = self._copies(memories, stored, own)
        self._transact(self._memory_writes(reviews[0]["owner"], memories, copies), 0)
        try:
            self._store_reviews(reviews)
        except Unavailable as unavailable:
            log.warning(json.dumps({"event": "round_reviews_left_to_the_consumer", "reviews": len(reviews),
                                    "cause": unavailable.cause}))
        return copies

    @staticmethod
    def _copies(memories: Sequence[MemoryUpdate], stored: Dict[int, Item],
                own: Dict[int, Dict[str, Item]]) -> Dict[int, Dict[str, Item]]:
        """Per word, the round reviews its new memory item carries: this round's, and those
        the stored item carries that are still carried."""
        now = time.time()
        copies = {}
        for memory in memories:
            kept = still_carried(stored.get(memory.word_id, {}).get(ROUND_REVIEWS, {}), now)
            if len(json.dumps(kept)) > CARRY_BYTES:
                kept = {}
            if kept or memory.word_id in own:
                copies[memory.word_id] = {**kept, **own.get(memory.word_id, {})}
        return copies

    def _store_reviews(self, reviews: List[Item]) -> None:
        """Put the reviews' items (a round committed on its memory items: no condition)."""
        for start in range(0, len(reviews), BATCH_WRITE_MAX_ITEMS):
            request = {self._reviews: [{"PutRequest": {"Item": to_item(review)}}
                                       for review in reviews[start:start + BATCH_WRITE_MAX_ITEMS]]}
            for attempt in range(BATCH_WRITE_ATTEMPTS):
                request = self._call("batch_write_item", write=True, RequestItems=request
                                     ).get("UnprocessedItems") or {}
                if not request:
                    break
                time.sleep(0.02 * 2**attempt)
            else:
                raise Unavailable(cause="DynamoDB left a round's reviews unprocessed")

    def _transact(self, items: List[dict], review_count: int) -> None:
        """One TransactWriteItems, sent again while it only lost a race with another."""
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
                    raise _refusal(error, reasons, review_count) from None
            # another review of these words was being written
            if not self._attempts.pause(random.uniform(0.005, 0.02 * 2**attempt), started):
                break
        raise Unavailable(cause="DynamoDB transaction conflicts on one word's memory persisted")

    def _memory_writes(self, owner: str, memories: Sequence[MemoryUpdate],
                       carried: Optional[Dict[int, Dict[str, Item]]] = None) -> List[dict]:
        """Per word its state, conditional on the one it was computed from; with the reviews
        it carries, of a round."""
        items = []
        for memory in memories:
            state = {"scope": owner, "word_id": memory.word_id, "owner": owner, **memory.fields}
            if carried and memory.word_id in carried:
                state.update({ROUND_REVIEWS: carried[memory.word_id], ROUND_MARK: True})
            items.append({"Put": {"TableName": self._memories, "Item": to_item(state),
                                  **memory_condition(memory.applied_before, memory.version_before)}})
        return items

    def wait_after_conflict(self, conflicts: int, started: float) -> bool:
        """A jittered, growing pause before computing a write again that lost a race; False when
        one more attempt would not end inside the request's budget."""
        return self._attempts.pause(random.uniform(0.002, min(0.05, 0.005 * 2**conflicts)), started)

    @translate_errors
    def word_history(self, owner: str, word_id: int, memory: Item) -> List[Answer]:
        """The owner's stored answers of a word, from the index REVIEWS_BY_WORD, with those the
        word's memory item carries (a round's, whose own items may not be written yet); as
        many as the memory item counts. An index trails its table for a moment: read again
        until it holds them all."""
        started = time.monotonic()
        carried = {review["reviewed_key"]: review["correct"]
                   for review in memory.get(ROUND_REVIEWS, {}).values()}
        for attempt in range(HISTORY_INDEX_ATTEMPTS):
            items = self._every_page("query", {
                "TableName": self._reviews, "IndexName": REVIEWS_BY_WORD.name,
                "KeyConditionExpression": "owner_word = :word",
                "ExpressionAttributeValues": {":word": {"S": word_history(owner, word_id)}}})
            answers = {**carried, **{item["reviewed_key"]: item["correct"] for item in items}}
            if len(answers) >= memory["applied"]:
                return [Answer(key, correct) for key, correct in answers.items()]
            if not self._attempts.pause(0.05 * 2**attempt, started):
                break
        raise Unavailable(cause="the reviews index trails the memory of a word")

    @translate_errors
    def whole_round(self, review_ids: Sequence[str], found: Dict[str, Item]) -> Dict[str, Item]:
        """A committed round's reviews by id, when some were found (stored, or carried by memory
        items the round wrote) and the others are still being written, by the round's own
        request or by the stream consumer: read again until all are stored."""
        started = time.monotonic()
        keys = [(self._reviews, {"id": id_}) for id_ in dict.fromkeys(review_ids)]
        for attempt in range(HISTORY_INDEX_ATTEMPTS):
            if not self._attempts.pause(0.05 * 2**attempt, started):
                break
            found = {**found, **{item["id"]: item for _, item in self._batch_get_all(keys, consistent=True)}}
            if len(found) == len(set(review_ids)):
                return found
        raise Unavailable(cause="an earlier round under this key is still being written")

    @translate_errors
    def get_reviews(self, review_ids: Sequence[str]) -> List[Item]:
        """The reviews with these ids, in the order asked."""
        return self._by_ids(self._reviews, review_ids)

    @translate_errors
    def partition_page(self, owner_word: str, limit: int, after=None):
        """A page of one owner's answers of one word (REVIEWS_BY_WORD), by time, after ``after``."""
        keys = (REVIEWS_BY_WORD.partition_key[0], REVIEWS_BY_WORD.sort_key[0])
        return self._partition_page(self._reviews, keys, owner_word, limit, after, REVIEWS_BY_WORD.name)
