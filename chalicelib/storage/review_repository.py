"""Reviews and the transaction that writes them: a review (or a round), its session's counters and
the memory of its words, all or none; a word's answers read back to replay them."""
import random
import time
import uuid
from typing import Dict, List, Optional, Sequence

from botocore.exceptions import ClientError

from chalicelib.core.errors import Unavailable
from chalicelib.core.scheduling import Answer, MemoryUpdate
from chalicelib.storage.dynamo import Item, Repository, from_item, to_attribute, to_item, translate_errors
from chalicelib.storage.schema import REVIEWS_BY_WORD, word_history

TRANSACTION_CONFLICT_ATTEMPTS = 8
HISTORY_INDEX_ATTEMPTS = 5  # reads of a word's reviews while the index trails the memory item


def _refusal(error: ClientError, reasons: List[Optional[str]], check_word: bool,
             review_count: int) -> Exception:
    if set(reasons) & {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}:
        return Unavailable(cause=f"DynamoDB transaction throttled: {reasons}", throttled=True)
    if set(reasons) - {"None", "ConditionalCheckFailed"}:
        return error
    details = error.response["CancellationReasons"]
    first = int(check_word)
    puts, update, memories = (details[first:first + review_count], details[first + review_count],
                              details[first + review_count + 1:])
    session_refused = update.get("Code") == "ConditionalCheckFailed"
    return ReviewRefused(
        existing=[from_item(put["Item"]) for put in puts if put.get("Code") == "ConditionalCheckFailed"],
        session_missing=session_refused and "Item" not in update,
        word_missing=check_word and details[0].get("Code") == "ConditionalCheckFailed",
        session=from_item(update["Item"]) if session_refused and "Item" in update else None,
        memory_stale=any(memory.get("Code") == "ConditionalCheckFailed" for memory in memories),
    )


class ReviewRefused(Exception):
    """The review transaction was cancelled by its conditions; each says which."""

    def __init__(self, existing: List[Item], session_missing: bool, word_missing: bool,
                 session: Optional[Item], memory_stale: bool = False):
        super().__init__("review refused")
        self.memory_stale = memory_stale  # another review of a word changed its memory first
        self.existing = existing  # reviews already stored under these ids
        self.session_missing = session_missing
        self.word_missing = word_missing
        # The session, when it exists but refused the update: another group than the word's,
        # or an end_time the review must not set (a later one, or a start still ahead).
        self.session = session


class ReviewRepository(Repository):
    def __init__(self, client, tables, attempts):
        super().__init__(client, tables, attempts)
        self._reviews = tables["word_reviews"]
        self._sessions = tables["study_sessions"]
        self._words = tables["words"]
        self._memories = tables["memories"]

    @translate_errors
    def record_reviews(self, reviews: List[Item], counters: Dict[str, int], set_end_time: bool,
                       word_groups: Optional[Sequence[int]], memories: Sequence[MemoryUpdate] = (),
                       earliest: Optional[str] = None) -> None:
        """Store the reviews of one session, count them on it and write the memory of their
        words, in one transaction: all or none. The session must have the reviews' owner.
        ``counters``: how much to add to each word counter; ``word_groups``: the groups every
        reviewed word is in, one of which must be the session's; None for a single word that was
        not found, which the transaction then checks itself; ``memories``: each word's new state,
        written only if its stored state is still the one it was computed from; ``earliest``: a
        time the session must not start after.
        Raises ReviewRefused when a condition fails."""
        items = []
        check_word = word_groups is None
        if check_word:
            items.append({"ConditionCheck": {
                "TableName": self._words, "Key": {"id": to_attribute(reviews[0]["word_id"])},
                "ConditionExpression": "attribute_exists(id)"}})
        items += [{"Put": {
            "TableName": self._reviews, "Item": to_item(review),
            "ConditionExpression": "attribute_not_exists(id)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}} for review in reviews]
        items.append(self._session_update(reviews, counters, set_end_time, word_groups, earliest))
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
                    raise _refusal(error, reasons, check_word, len(reviews)) from None
            # another review of this session was being written
            if not self._attempts.pause(random.uniform(0.005, 0.02 * 2**attempt), started):
                break
        raise Unavailable(cause="DynamoDB transaction conflicts on one session persisted")

    def _session_update(self, reviews: List[Item], counters: Dict[str, int], set_end_time: bool,
                        word_groups: Optional[Sequence[int]], earliest: Optional[str]) -> dict:
        names = {f"#w{n}": counter for n, counter in enumerate(counters)}
        values = {":count": {"N": str(len(reviews))},
                  **{f":w{n}": {"N": str(added)} for n, added in enumerate(counters.values())}}
        update = "ADD review_items_count :count, " + ", ".join(f"#w{n} :w{n}" for n in range(len(counters)))
        conditions = ["attribute_exists(id) AND #owner = :owner"]
        names["#owner"], values[":owner"] = "owner", {"S": reviews[0]["owner"]}
        if word_groups is not None:
            groups = sorted(word_groups) or [0]  # no group has id 0: words of no common group fit none
            allowed = {f":g{n}": to_attribute(group) for n, group in enumerate(groups)}
            conditions.append(f"group_id IN ({', '.join(allowed)})")
            values.update(allowed)
        if earliest is not None:
            conditions.append("created_at <= :earliest")
            values[":earliest"] = {"S": earliest}
        if set_end_time:
            update = "SET end_time = :at " + update
            conditions.append("(attribute_not_exists(end_time) OR end_time <= :at) AND created_at <= :at")
            values[":at"] = {"S": max(review["created_at"] for review in reviews)}
        return {"Update": {
            "TableName": self._sessions, "Key": {"id": {"S": reviews[0]["study_session_id"]}},
            "UpdateExpression": update, "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}

    def _memory_writes(self, owner: str, memories: Sequence[MemoryUpdate]) -> List[dict]:
        """Per word its state, conditional on the one it was computed from."""
        items = []
        for memory in memories:
            state = {"scope": owner, "word_id": memory.word_id, "owner": owner, **memory.fields}
            if memory.applied_before is None:
                condition = {"ConditionExpression": "attribute_not_exists(#scope)",
                             "ExpressionAttributeNames": {"#scope": "scope"}}
            else:
                condition = {"ConditionExpression": "applied = :applied",
                             "ExpressionAttributeValues": {":applied": to_attribute(memory.applied_before)}}
            items.append({"Put": {"TableName": self._memories, "Item": to_item(state), **condition}})
        return items

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
