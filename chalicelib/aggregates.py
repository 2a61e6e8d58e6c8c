"""The aggregates consumer: DynamoDB Streams records of new sessions and reviews, counted into
per-learner aggregate items, so that every summary reads a few items whatever the history.

Lambda delivers stream records at least once: a retried, bisected or partially failed batch
hands some records over again. Each record is therefore applied in one transaction together
with a marker item named by its eventID (`attribute_not_exists`): a record seen before cancels
its transaction and is skipped, and a record is never half counted. This is the only technique
exact under every retry pattern (a per-shard high-water mark needs the shard id, which plain
stream events do not carry; a ClientRequestToken lasts 10 minutes against 24 hours of retries).
Markers expire after MARKER_TTL_SECONDS, beyond the stream's 24 h retention.

Figures that are not sums are kept so that applying records in any order gives the same
result: a group's last session day only moves forward (a condition; the record is then counted
without it), session days are a set, and a word's counts are rewritten from what was read with
a condition that they are unchanged, which also yields its studied and mastered transitions.
"""
import json
import logging
import random
import time
from typing import Callable, Dict, Iterable, List, Optional

from botocore.exceptions import ClientError

from chalicelib.schema import (
    IMPLICIT_LEARNER,
    TOTALS,
    activity_item,
    days_item,
    group_item,
    word_item,
)

MARKER_TTL_SECONDS = 48 * 3600
CONFLICT_ATTEMPTS = 6
MASTERED_MIN_REVIEWS = 5
MASTERED_MIN_SHARE = 0.8

log = logging.getLogger("study-sessions.aggregates")

def is_mastered(correct: int, wrong: int) -> bool:
    reviews = correct + wrong
    return reviews >= MASTERED_MIN_REVIEWS and correct >= MASTERED_MIN_SHARE * reviews


class Duplicate(Exception):
    """This record was applied before: its marker exists."""


class Refused(Exception):
    """A condition of the record's transaction failed; ``reasons`` by item, as DynamoDB says."""

    def __init__(self, reasons: List[Optional[str]]):
        super().__init__(reasons)
        self.reasons = reasons


def _image_value(attribute: dict):
    if "N" in attribute:
        return int(attribute["N"])
    if "BOOL" in attribute:
        return attribute["BOOL"]
    return attribute.get("S")


def _image(record: dict) -> dict:
    return {name: _image_value(value) for name, value in record["dynamodb"].get("NewImage", {}).items()}


def _table_of(record: dict) -> str:
    """arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label> -> <name>"""
    return record.get("eventSourceARN", "").split(":table/", 1)[-1].split("/", 1)[0]


class AggregateWriter:
    """Applies one record's counts to the aggregates table in one transaction."""

    def __init__(self, client, table: str, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self._client = client
        self._table = table
        self._clock = clock
        self._sleep = sleep

    def _marker(self, learner: str, event_id: str) -> dict:
        return {"Put": {
            "TableName": self._table,
            "Item": {"learner": {"S": learner}, "item": {"S": f"seen#{event_id}"},
                     "expires_at": {"N": str(int(self._clock()) + MARKER_TTL_SECONDS)}},
            "ConditionExpression": "attribute_not_exists(#item)",
            "ExpressionAttributeNames": {"#item": "item"}}}

    def _add(self, learner: str, item: str, counts: Dict[str, int], extra: str = "",
             values: Optional[dict] = None, condition: Optional[str] = None) -> dict:
        names = {f"#c{n}": name for n, name in enumerate(counts)}
        update = {"TableName": self._table, "Key": {"learner": {"S": learner}, "item": {"S": item}},
                  "UpdateExpression": (extra + " " if extra else "") + "ADD " + ", ".join(
                      f"#c{n} :c{n}" for n in range(len(counts))),
                  "ExpressionAttributeNames": names,
                  "ExpressionAttributeValues": {
                      **{f":c{n}": {"N": str(value)} for n, value in enumerate(counts.values())},
                      **(values or {})}}
        if condition:
            update["ConditionExpression"] = condition
        return {"Update": update}

    def _transact(self, items: List[dict]) -> None:
        """One transaction; Duplicate if its marker (the first item) exists, Refused if another
        condition failed; conflicts with a concurrent transaction are tried again."""
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=items)
                return
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    raise Duplicate() from None
                if "ConditionalCheckFailed" in reasons:
                    raise Refused(reasons) from None
                if "TransactionConflict" not in reasons or attempt == CONFLICT_ATTEMPTS - 1:
                    raise
            self._sleep(random.uniform(0.01, 0.05 * 2 ** attempt))

    def count_session(self, event_id: str, session: dict) -> None:
        learner = session.get("learner_id") or IMPLICIT_LEARNER
        day = session["created_at"][:10]
        group = self._add(learner, group_item(session["group_id"]), {"sessions": 1})
        latest = self._add(learner, group_item(session["group_id"]), {"sessions": 1}, "SET last_day = :day",
                           {":day": {"S": day}}, "attribute_not_exists(last_day) OR last_day <= :day")
        rest = [
            self._add(learner, TOTALS, {"sessions": 1}),
            self._add(learner, activity_item(session["study_activity_id"]), {"sessions": 1}),
            {"Update": {"TableName": self._table,
                        "Key": {"learner": {"S": learner}, "item": {"S": days_item(day[:4])}},
                        "UpdateExpression": "ADD #days :day",
                        "ExpressionAttributeNames": {"#days": "days"},
                        "ExpressionAttributeValues": {":day": {"SS": [day]}}}},
        ]
        try:
            self._transact([self._marker(learner, event_id), latest, *rest])
        except Refused:  # a later session of the group was counted first: keep its day
            self._transact([self._marker(learner, event_id), group, *rest])

    def count_review(self, event_id: str, review: dict) -> None:
        learner = review.get("learner_id") or IMPLICIT_LEARNER
        key = {"learner": {"S": learner}, "item": {"S": word_item(review["word_id"])}}
        for _ in range(CONFLICT_ATTEMPTS):
            stored = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
            before = (int(stored["correct"]["N"]), int(stored["wrong"]["N"])) if stored else (0, 0)
            after = (before[0] + review["correct"], before[1] + (not review["correct"]))
            word = {"Update": {
                "TableName": self._table, "Key": key,
                "UpdateExpression": "SET correct = :correct, wrong = :wrong",
                "ConditionExpression": ("correct = :was_correct AND wrong = :was_wrong" if stored
                                        else "attribute_not_exists(#item)"),
                "ExpressionAttributeValues": {
                    ":correct": {"N": str(after[0])}, ":wrong": {"N": str(after[1])},
                    **({":was_correct": {"N": str(before[0])}, ":was_wrong": {"N": str(before[1])}}
                       if stored else {})},
                **({} if stored else {"ExpressionAttributeNames": {"#item": "item"}})}}
            totals = self._add(learner, TOTALS, {
                "reviews": 1, "correct": int(review["correct"]),
                "words_studied": int(sum(before) == 0),
                "mastered": is_mastered(*after) - is_mastered(*before)})
            try:
                self._transact([self._marker(learner, event_id), word, totals])
                return
            except Refused:  # the word was counted meanwhile by another record: read it again
                continue
        raise RuntimeError(f"word {review['word_id']} kept changing under review {review.get('id')}")


def process(records: Iterable[dict], tables: Dict[str, str], writer: AggregateWriter) -> dict:
    """Each record on its own: a failed one is reported by its sequence number, and Lambda
    retries from the first failure (the others are skipped then as duplicates)."""
    failures = []
    for record in records:
        try:
            _apply(record, tables, writer)
        except Duplicate:
            pass
        except Exception as error:  # noqa: BLE001 - one bad record must not fail the batch
            log.error(json.dumps({"event": "aggregate_failed", "event_id": record.get("eventID"),
                                  "cause": f"{type(error).__name__}: {error}"}))
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}


def _apply(record: dict, tables: Dict[str, str], writer: AggregateWriter) -> None:
    if record.get("eventName") != "INSERT":
        return
    table = _table_of(record)
    if table == tables["study_sessions"]:
        writer.count_session(record["eventID"], _image(record))
    elif table == tables["word_reviews"]:
        writer.count_review(record["eventID"], _image(record))


def recount(sessions: Iterable[dict], reviews: Iterable[dict]) -> Dict[tuple, dict]:
    """Every aggregate item as the stored sessions and reviews say it should be:
    (learner, item) -> attributes. The audit compares it with the aggregates table."""
    expected: Dict[tuple, dict] = {}

    def item(learner: str, name: str) -> dict:
        return expected.setdefault((learner, name), {})

    for session in sessions:
        learner, day = session.get("learner_id") or IMPLICIT_LEARNER, session["created_at"][:10]
        totals = item(learner, TOTALS)
        totals["sessions"] = totals.get("sessions", 0) + 1
        group = item(learner, group_item(session["group_id"]))
        group["sessions"] = group.get("sessions", 0) + 1
        group["last_day"] = max(group.get("last_day", day), day)
        activity = item(learner, activity_item(session["study_activity_id"]))
        activity["sessions"] = activity.get("sessions", 0) + 1
        item(learner, days_item(day[:4])).setdefault("days", set()).add(day)
    for review in reviews:
        learner = review.get("learner_id") or IMPLICIT_LEARNER
        word = item(learner, word_item(review["word_id"]))
        word["correct"] = word.get("correct", 0) + int(review["correct"])
        word["wrong"] = word.get("wrong", 0) + int(not review["correct"])
    for (learner, name), word in list(expected.items()):
        if name.startswith("word#"):
            totals = item(learner, TOTALS)
            for figure, value in (("reviews", word["correct"] + word["wrong"]), ("correct", word["correct"]),
                                  ("words_studied", 1), ("mastered", int(is_mastered(word["correct"],
                                                                                       word["wrong"])))):
                totals[figure] = totals.get(figure, 0) + value
    return expected
