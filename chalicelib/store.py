"""DynamoDB repository. Owns every DynamoDB call and turns DynamoDB failures into
the service's errors; knows nothing of HTTP."""
import functools
import random
import time
import uuid
from decimal import Decimal
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.deadline import Attempts
from chalicelib.errors import InternalError, Unavailable
from chalicelib.scheduling import Answer, MemoryUpdate, card_fields
from chalicelib.schema import (
    ERASED,
    HISTORY,
    MEMORIES_BY_DUE,
    PURGE_PENDING,
    REVIEWED_WORDS,
    REVIEWS_BY_WORD,
    Index,
    erased_mark,
    group_scope,
    word_history,
)

Item = Dict[str, object]
BATCH_GET_MAX_KEYS = 100
BATCH_GET_ATTEMPTS = 4
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


class SessionExists(Exception):
    """The conditional put found an item with this id already."""

    def __init__(self, item: Item):
        super().__init__(item.get("id"))
        self.item = item


def _translate_errors(method):
    """Transient failures became Unavailable in Attempts; whatever else DynamoDB or botocore
    raises is a fault of ours (permissions, a malformed request): 500 without internals."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except ClientError as error:
            raise InternalError(cause=f"DynamoDB {error.response.get('Error', {}).get('Code', 'Unknown')}") \
                from error
        except BotoCoreError as error:
            raise InternalError(cause=f"botocore {type(error).__name__}") from error

    return wrapper


def _to_attribute(value) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float):  # its shortest repr, in fixed notation: read back, the same float
        return {"N": format(Decimal(repr(value)), "f")}
    if isinstance(value, list):
        return {"NS": [str(number) for number in value]}
    if isinstance(value, set):
        return {"SS": sorted(value)}
    return {"S": value}


def _from_attribute(attribute: dict):
    if "N" in attribute:
        number = attribute["N"]
        return int(number) if number.lstrip("-").isdigit() else float(number)
    if "BOOL" in attribute:
        return attribute["BOOL"]
    if "NS" in attribute:
        return sorted(int(number) for number in attribute["NS"])
    if "SS" in attribute:
        return set(attribute["SS"])
    return attribute["S"]


def to_item(values: Item) -> dict:
    return {name: _to_attribute(value) for name, value in values.items()}


def from_item(item: dict) -> Item:
    return {name: _from_attribute(attribute) for name, attribute in item.items()}


def _partition_keys(logical: str, index: Optional[Index]) -> Tuple[str, str]:
    if index is not None:
        return index.partition_key[0], index.sort_key[0]
    return {"memories": ("scope", "word_id"), "aggregates": ("learner", "item")}[logical]


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


class DynamoStore:
    def __init__(self, client, tables: Dict[str, str], attempts: Attempts):
        """``tables``: logical name (as in chalicelib.schema.TABLES) -> DynamoDB table name."""
        self._client = client
        self._attempts = attempts
        self._sessions = tables["study_sessions"]
        self._reviews = tables["word_reviews"]
        self._words = tables["words"]
        self._aggregates = tables["aggregates"]
        self._memories = tables["memories"]
        self._reference_tables = {
            "group": tables["groups"], "activity": tables["study_activities"], "word": self._words,
        }

    def _call(self, operation: str, write: bool = False, **params):
        """One DynamoDB call, resent unchanged after a transient failure if time allows."""
        send = getattr(self._client, operation)
        return self._attempts.run(lambda: send(**params), write)

    @_translate_errors
    def get_references(self, wanted: Dict[str, Iterable[int]]) -> Dict[str, Dict[int, Item]]:
        """Reference items by kind ("group", "activity", "word") and id, read with one
        BatchGetItem per 100 keys; absent ids are left out."""
        keys = [(self._reference_tables[kind], {"id": id_}) for kind, ids in wanted.items()
                for id_ in sorted(set(ids))]
        kind_of = {table: kind for kind, table in self._reference_tables.items()}
        found: Dict[str, Dict[int, Item]] = {kind: {} for kind in wanted}
        for table, item in self._batch_get_all(keys):
            found[kind_of[table]][item["id"]] = item
        return found

    @_translate_errors
    def get_sessions(self, session_ids: Sequence[str]) -> List[Item]:
        """The sessions with these ids, live counters included, in the order asked."""
        by_id = {item["id"]: item for _, item in self._batch_get_all(
            [(self._sessions, {"id": id_}) for id_ in dict.fromkeys(session_ids)])}
        return [by_id[id_] for id_ in session_ids if id_ in by_id]

    def _batch_get_all(self, keys: Sequence[Tuple[str, Item]], consistent: bool = False):
        for start in range(0, len(keys), BATCH_GET_MAX_KEYS):
            yield from self._batch_get(keys[start:start + BATCH_GET_MAX_KEYS], consistent)

    def _batch_get(self, keys: Sequence[Tuple[str, Item]], consistent: bool):
        request: Dict[str, dict] = {}
        for table, key in keys:
            request.setdefault(table, {"Keys": [], **({"ConsistentRead": True} if consistent else {})}
                               )["Keys"].append(to_item(key))
        for attempt in range(BATCH_GET_ATTEMPTS):
            answer = self._call("batch_get_item", RequestItems=request)
            for table, items in answer.get("Responses", {}).items():
                for item in items:
                    yield table, from_item(item)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                return
            time.sleep(0.05 * 2**attempt)
        raise Unavailable(cause="DynamoDB left keys unprocessed")

    @_translate_errors
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
                "TableName": self._words, "Key": {"id": _to_attribute(reviews[0]["word_id"])},
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
            allowed = {f":g{n}": _to_attribute(group) for n, group in enumerate(groups)}
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
        """Per word its state (conditional on the one read), a copy in each of its groups; per
        group, the words reviewed there for the first time added to its set."""
        items, first_reviewed = [], {}
        for memory in memories:
            state = {"scope": owner, "word_id": memory.word_id, "owner": owner, **memory.fields}
            if memory.applied_before is None:
                condition, values = "attribute_not_exists(#scope)", None
            else:
                condition, values = "applied = :applied", {":applied": _to_attribute(memory.applied_before)}
            put = {"TableName": self._memories, "Item": to_item(state), "ConditionExpression": condition,
                   "ExpressionAttributeNames": {"#scope": "scope"} if values is None else None,
                   "ExpressionAttributeValues": values}
            items.append({"Put": {name: value for name, value in put.items() if value is not None}})
            copy = {"word_id": memory.word_id, "owner": owner, **card_fields(memory.fields)}
            for group in memory.group_ids:
                items.append({"Put": {"TableName": self._memories,
                                      "Item": to_item({"scope": group_scope(owner, group), **copy})}})
                if memory.applied_before is None:
                    first_reviewed.setdefault(group, []).append(memory.word_id)
        for group, words in sorted(first_reviewed.items()):
            items.append({"Update": {
                "TableName": self._memories,
                "Key": to_item({"scope": group_scope(owner, group), "word_id": REVIEWED_WORDS}),
                "UpdateExpression": "ADD reviewed :words SET #owner = :owner",
                "ExpressionAttributeNames": {"#owner": "owner"},
                "ExpressionAttributeValues": {":words": _to_attribute(words), ":owner": {"S": owner}}}})
        return items

    def wait_after_conflict(self, conflicts: int, started: float) -> bool:
        """A jittered, growing pause before computing a write again that lost a race; False when
        one more attempt would not end inside the request's budget."""
        return self._attempts.pause(random.uniform(0.002, min(0.05, 0.005 * 2**conflicts)), started)

    @_translate_errors
    def memories(self, owner: str, word_ids: Iterable[int]) -> Dict[int, Item]:
        """The owner's memory of these words (chalicelib.scheduling), read strongly consistent;
        words never reviewed are left out."""
        keys = [(self._memories, {"scope": owner, "word_id": id_}) for id_ in sorted(set(word_ids))]
        return {item["word_id"]: item for _, item in self._batch_get_all(keys, consistent=True)}

    @_translate_errors
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

    @_translate_errors
    def due_memories(self, scope: str, now: str, limit: int, after: Optional[Tuple[str, int]]
                     ) -> Tuple[List[Item], bool]:
        """Up to ``limit`` memory items of one scope due at ``now``, the most overdue first,
        strictly after the (due, word id) position; and whether more may follow."""
        params = {"TableName": self._memories, "IndexName": MEMORIES_BY_DUE.name, "ConsistentRead": True,
                  "KeyConditionExpression": "#scope = :scope AND due <= :now",
                  "ExpressionAttributeNames": {"#scope": "scope"},
                  "ExpressionAttributeValues": {":scope": {"S": scope}, ":now": {"S": now}},
                  "Limit": limit}
        if after:
            params["ExclusiveStartKey"] = to_item({"scope": scope, "due": after[0], "word_id": after[1]})
        answer = self._call("query", **params)
        return [from_item(item) for item in answer["Items"]], "LastEvaluatedKey" in answer

    @_translate_errors
    def reviewed_words(self, owner: str, group_id: int) -> set:
        """The words of a group the owner ever reviewed (chalicelib.schema.REVIEWED_WORDS)."""
        answer = self._call("get_item", TableName=self._memories, ConsistentRead=True,
                            Key=to_item({"scope": group_scope(owner, group_id), "word_id": REVIEWED_WORDS}))
        return set(from_item(answer.get("Item", {})).get("reviewed", []))

    @_translate_errors
    def count_due(self, owner: str, now: str) -> int:
        """How many of the owner's words are due at ``now``."""
        params = {"TableName": self._memories, "IndexName": MEMORIES_BY_DUE.name, "Select": "COUNT",
                  "KeyConditionExpression": "#scope = :scope AND due <= :now",
                  "ExpressionAttributeNames": {"#scope": "scope"},
                  "ExpressionAttributeValues": {":scope": {"S": owner}, ":now": {"S": now}}}
        count = 0
        while True:
            answer = self._call("query", **params)
            count += answer["Count"]
            if "LastEvaluatedKey" not in answer:
                return count
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    @_translate_errors
    def put_session(self, session: Item) -> None:
        """Write a new session; raises SessionExists with the stored item if the id is taken."""
        try:
            self._call(
                "put_item", write=True,
                TableName=self._sessions,
                Item=to_item(session),
                ConditionExpression="attribute_not_exists(id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            existing = error.response.get("Item")
            stored = from_item(existing) if existing else self._read_session(session["id"])
            raise SessionExists(stored) from None

    @_translate_errors
    def get_session(self, session_id: str) -> Optional[Item]:
        return self._read_session(session_id)

    def _read_session(self, session_id: str) -> Optional[Item]:
        answer = self._call("get_item", TableName=self._sessions, Key={"id": {"S": session_id}},
                            ConsistentRead=True)
        return from_item(answer["Item"]) if "Item" in answer else None

    @_translate_errors
    def query_sessions(
        self, index: Index, partition_value, limit: int, after: Optional[Sequence[str]]
    ) -> Tuple[List[Item], bool]:
        """Up to ``limit`` sessions of one index partition, newest first, strictly after
        the (created_at, id) position; and whether more follow."""
        params = self._partition_query(index, partition_value, Limit=limit + 1)
        if after:
            params["ExclusiveStartKey"] = {
                index.partition_key[0]: _to_attribute(partition_value),
                index.sort_key[0]: {"S": after[0]},
                "id": {"S": after[1]},
            }
        answer = self._call("query", **params)
        items = [from_item(item) for item in answer["Items"]]
        return items[:limit], len(items) > limit or "LastEvaluatedKey" in answer

    @_translate_errors
    def learner_state(self, learner: str, with_epoch: bool) -> Tuple[int, bool]:
        """The learner's epoch (0 unless asked for) and whether they erased their account: one
        strongly consistent read of their history item and their erased mark."""
        keys = [(self._aggregates, erased_mark(learner))]
        if with_epoch:
            keys.append((self._aggregates, {"learner": learner, "item": HISTORY}))
        found = {item["item"]: item for _, item in self._batch_get_all(keys, consistent=True)}
        return found.get(HISTORY, {}).get("epoch", 0), ERASED in found

    @_translate_errors
    def erasure(self, learner: str) -> Item:
        """The learner's erased mark, read strongly consistent: `erased_at`, and `handed_over`
        once every epoch went to the purge; empty if they never erased their account."""
        answer = self._call("get_item", TableName=self._aggregates, ConsistentRead=True,
                            Key=to_item(erased_mark(learner)))
        return from_item(answer.get("Item", {}))

    @_translate_errors
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

    @_translate_errors
    def purge_every_epoch(self, learner: str, erased_at: int, now: int) -> None:
        """Hand every epoch of the learner's history to the purge (chalicelib.purge), which then
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

    @_translate_errors
    def epoch(self, learner: str) -> int:
        """How many times the learner's history was reset (chalicelib.histories)."""
        return self.history(learner).get("epoch", 0)

    @_translate_errors
    def history(self, learner: str) -> Item:
        """The learner's history item: epoch, purged (the epochs before it are deleted); empty
        before the first reset."""
        answer = self._call("get_item", TableName=self._aggregates, ConsistentRead=True,
                            Key={"learner": {"S": learner}, "item": {"S": HISTORY}})
        return from_item(answer.get("Item", {}))

    @_translate_errors
    def start_new_history(self, learner: str) -> None:
        """Move the learner to the next epoch, and list the old one for deletion from now on
        (chalicelib.purge). Not conditional: a resend after a lost answer moves one epoch
        further, which is as empty."""
        self._call("update_item", write=True, TableName=self._aggregates,
                   Key={"learner": {"S": learner}, "item": {"S": HISTORY}},
                   UpdateExpression="ADD epoch :one SET purge_pending = :pending, reset_at = :now",
                   ExpressionAttributeValues={":one": {"N": "1"}, ":pending": {"S": PURGE_PENDING},
                                              ":now": {"N": str(int(time.time()))}})

    @_translate_errors
    def aggregate(self, owner: str, item: str) -> Item:
        """One aggregate item of an owner (chalicelib.aggregates); empty before its first count."""
        answer = self._call("get_item", TableName=self._aggregates,
                            Key={"learner": {"S": owner}, "item": {"S": item}})
        return from_item(answer.get("Item", {}))

    @_translate_errors
    def aggregates(self, owner: str, prefix: str) -> List[Item]:
        """An owner's aggregate items whose names start with ``prefix`` ("group#", "days#")."""
        return self._every_page("query", {
            "TableName": self._aggregates,
            "KeyConditionExpression": "learner = :learner AND begins_with(#item, :prefix)",
            "ExpressionAttributeNames": {"#item": "item"},
            "ExpressionAttributeValues": {":learner": {"S": owner}, ":prefix": {"S": prefix}},
        })

    @_translate_errors
    def session_window(self, index: Index, partition_value, skip: int, count: int,
                       newest_first: bool = True) -> List[Item]:
        """``count`` sessions of one index partition after the first ``skip`` from one end:
        DynamoDB cannot skip, so this reads the ``skip`` before them too."""
        wanted = skip + count
        params, items = self._partition_query(index, partition_value, Limit=wanted), []
        params["ScanIndexForward"] = not newest_first
        while len(items) < wanted:
            answer = self._call("query", **params)
            items.extend(answer["Items"])
            if "LastEvaluatedKey" not in answer:
                break
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
            params["Limit"] = wanted - len(items)
        return [from_item(item) for item in items[skip:wanted]]

    def _partition_query(self, index: Index, partition_value, **extra) -> dict:
        return {
            "TableName": self._sessions,
            "IndexName": index.name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": index.partition_key[0]},
            "ExpressionAttributeValues": {":pk": _to_attribute(partition_value)},
            "ScanIndexForward": False,
            **extra,
        }

    @_translate_errors
    def partition_page(self, logical: str, partition_value: str, limit: int, after=None,
                       index: Optional[Index] = None, before: Optional[str] = None
                       ) -> Tuple[List[Item], bool]:
        """Up to ``limit`` items of one partition of a table (or of its ``index``) in sort key
        order, strictly after the sort key value ``after`` and, of a table, strictly before
        ``before``; and whether more follow."""
        table = {"word_reviews": self._reviews, "memories": self._memories,
                 "aggregates": self._aggregates}[logical]
        partition_key, sort_key = _partition_keys(logical, index)
        params = {"TableName": table, "KeyConditionExpression": "#pk = :pk",
                  "ExpressionAttributeNames": {"#pk": partition_key},
                  "ExpressionAttributeValues": {":pk": {"S": partition_value}}, "Limit": limit + 1}
        if index is not None:
            params["IndexName"] = index.name
        bound = ("<", before) if before is not None else (">", after) if after is not None else None
        if bound:
            params["KeyConditionExpression"] += f" AND #sk {bound[0]} :bound"
            params["ExpressionAttributeNames"]["#sk"] = sort_key
            params["ExpressionAttributeValues"][":bound"] = _to_attribute(bound[1])
        if before is not None and after is not None:  # one condition a key: after is a start key
            params["ExclusiveStartKey"] = to_item({partition_key: partition_value, sort_key: after})
        items: List[Item] = []
        while True:  # a read stops at 1 MB: read on until the page is whole
            answer = self._call("query", **params)
            items += [from_item(item) for item in answer["Items"]]
            if len(items) > limit or "LastEvaluatedKey" not in answer:
                return items[:limit], len(items) > limit
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    @_translate_errors
    def get_reviews(self, review_ids: Sequence[str]) -> List[Item]:
        """The reviews with these ids, in the order asked."""
        by_id = {item["id"]: item for _, item in self._batch_get_all(
            [(self._reviews, {"id": id_}) for id_ in dict.fromkeys(review_ids)])}
        return [by_id[id_] for id_ in review_ids if id_ in by_id]

    @_translate_errors
    def scan_groups(self) -> List[Item]:
        """Consistent, as scan_words: every group and word written before the read is in it."""
        return self._scan(self._reference_tables["group"], consistent=True)

    @_translate_errors
    def scan_activities(self) -> List[Item]:
        return self._scan(self._reference_tables["activity"])

    @_translate_errors
    def scan_words(self) -> List[Item]:
        return self._scan(self._words, consistent=True)

    def _scan(self, table: str, consistent: bool = False) -> List[Item]:
        return self._every_page("scan", {"TableName": table, "ConsistentRead": consistent})

    def _every_page(self, operation: str, params: dict) -> List[Item]:
        items: List[Item] = []
        while True:
            answer = self._call(operation, **params)
            items.extend(from_item(item) for item in answer["Items"])
            if "LastEvaluatedKey" not in answer:
                return items
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
