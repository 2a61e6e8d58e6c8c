"""The aggregates consumer: DynamoDB Streams records of new sessions and reviews, counted into
per-learner aggregate items, so that every summary reads a few items whatever the history.

Lambda delivers stream records at least once: a retried, bisected or partially failed batch
hands some records over again. Each record is therefore written in the same transaction as a
marker item named by its eventID (`attribute_not_exists`): records whose markers exist are
skipped, and a record is never half counted. A batch's records go into as few transactions as
fit (a marker each, and each aggregate item they change once, with their sums), so a record
costs little more than its marker. This is the only technique exact under every retry pattern
(a per-shard high-water mark needs the shard id, which plain stream events do not carry; a
ClientRequestToken lasts 10 minutes against 24 hours of retries). Markers expire after
MARKER_TTL_SECONDS, beyond the stream's 24 h retention.

A review record also counts on its session item (the study_sessions table): `review_items_count`,
the word's `correct_<id>` or `wrong_<id>`, and `end_time`, its latest review's time. The review's
own write leaves the session alone (a review is its item and its word's memory, chalicelib.study.reviews),
so a session's figures are exact once the consumer has its records: about a second after the 201.

Figures that are not sums are kept so that records in any order give the same result: a
group's last session day and a session's end_time only move forward, session days are a set,
and a word's counts are rewritten from what was read (which also tells its studied and mastered
transitions). Whatever was read is a condition of the transaction: if another shard changed it
meanwhile, the chunk is read and computed again.
"""
import json
import logging
import random
import time
from typing import Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from botocore.exceptions import ClientError

from chalicelib.storage.access import AGGREGATES, running_as
from chalicelib.storage.dynamo import from_item
from chalicelib.storage.schema import (
    HISTORY,
    IMPLICIT_LEARNER,
    TOTALS,
    WORD_COUNTER_PREFIXES,
    activity_item,
    days_item,
    erased_mark,
    group_item,
    owner,
    split_owner,
    word_item,
)
from chalicelib.streams.rounds import carried_reviews, write_missing

MARKER_TTL_SECONDS = 48 * 3600
CONFLICT_ATTEMPTS = 6
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit for one TransactWriteItems
BATCH_GET_MAX_KEYS = 100
BATCH_GET_ATTEMPTS = 4
ROUND = "round"  # a round's memory item: Counted.kind beside "session" and "review"
MASTERED_MIN_REVIEWS = 5
MASTERED_MIN_SHARE = 0.8

log = logging.getLogger("study-sessions.aggregates")

def is_mastered(correct: int, wrong: int) -> bool:
    reviews = correct + wrong
    return reviews >= MASTERED_MIN_REVIEWS and correct >= MASTERED_MIN_SHARE * reviews


def count_on_session(figures: dict, review: dict, start: str) -> None:
    """Add one review to its session's figures: `review_items_count`, its word's `correct_<id>`
    or `wrong_<id>`, and `end_time`, the latest review not before the session's ``start``."""
    counter = f"{WORD_COUNTER_PREFIXES[bool(review['correct'])]}{review['word_id']}"
    figures["review_items_count"] = figures.get("review_items_count", 0) + 1
    figures[counter] = figures.get(counter, 0) + 1
    if review["created_at"] >= start:
        figures["end_time"] = max(figures.get("end_time", review["created_at"]), review["created_at"])


class Changed(Exception):
    """Something the transaction was computed from changed meanwhile: read again."""


def _image(record: dict) -> dict:
    return from_item(record["dynamodb"].get("NewImage", {}))


def _table_of(record: dict) -> str:
    """arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label> -> <name>"""
    return record.get("eventSourceARN", "").split(":table/", 1)[-1].split("/", 1)[0]


class Counted(NamedTuple):
    """A stream record as the consumer counts it."""
    record: dict
    owner: str  # "<learner>#<epoch>": whose aggregates it counts into
    kind: str  # "session", "review" or ROUND
    image: dict

    @property
    def marker(self) -> Tuple[str, str]:
        return self.owner, f"seen#{self.record['eventID']}"

    @property
    def session(self) -> Optional[str]:
        """The session a review record counts on."""
        return self.image["study_session_id"] if self.kind == "review" else None

    def aggregates(self) -> List[Tuple[str, str]]:
        """The aggregate items this record changes."""
        if self.kind == "review":
            return [(self.owner, TOTALS), (self.owner, word_item(self.image["word_id"]))]
        day = self.image["created_at"][:10]
        return [(self.owner, TOTALS), (self.owner, group_item(self.image["group_id"])),
                (self.owner, activity_item(self.image["study_activity_id"])),
                (self.owner, days_item(day[:4]))]


def counted(record: dict, tables: Dict[str, str]) -> Optional[Counted]:
    if record.get("eventName") != "INSERT":
        return None
    kind = {tables["study_sessions"]: "session", tables["word_reviews"]: "review"}.get(_table_of(record))
    if kind is None:
        return None
    image = _image(record)
    return Counted(record, _owner(image), kind, image)


def _owner(image: dict) -> str:
    """Items written before histories had owners belong to the implicit learner's first."""
    return image.get("owner") or owner(IMPLICIT_LEARNER, 0)


def _key(key: Tuple[str, str]) -> dict:
    return {"learner": {"S": key[0]}, "item": {"S": key[1]}}


def _mark_key(learner: str) -> Tuple[str, str]:
    mark = erased_mark(learner)
    return mark["learner"], mark["item"]


class AggregateWriter:
    """Applies a chunk of records to the aggregates table in one transaction: a marker per
    record and each aggregate item it changes once, with the chunk's sums, and each session its
    reviews count on."""

    def __init__(self, client, tables: Mapping[str, str], clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self._client = client
        self._tables = tables
        self._table = tables["aggregates"]
        self._sessions = tables["study_sessions"]
        self._clock = clock
        self._sleep = sleep

    def apply(self, chunk: List[Counted]) -> None:
        """Raises when the chunk could not be applied; nothing of it is then written."""
        for attempt in range(CONFLICT_ATTEMPTS):
            # what the writes depend on: markers, and the counts and days they rewrite
            stored = self._read({c.marker for c in chunk} | {
                key for c in chunk for key in c.aggregates() if key[1].startswith(("word#", "group#"))})
            fresh = [c for c in chunk if c.marker not in stored]
            if not fresh:
                return
            sessions = self._read_sessions({c.session for c in fresh if c.session})
            try:
                self._transact(self._writes(fresh, stored) + self._session_writes(fresh, sessions))
                return
            except Changed:  # another shard's transaction got there first: read again
                self._sleep(random.uniform(0.01, 0.05 * 2 ** attempt))
        raise RuntimeError(f"aggregates kept changing under {len(chunk)} records")

    def complete_round(self, reviews: List[dict]) -> int:
        """Write a committed round's reviews that are not stored (chalicelib.streams.rounds)."""
        return write_missing(self._client, self._tables, reviews)

    def current(self, records: List[Counted]) -> List[Counted]:
        """The records of their learner's current history: a reset history's records count
        nowhere, also when they come after its purge (a redelivery, a stream read again from
        its start), and an erased learner's count nowhere at all, also once the purge deleted
        their history item: their erased mark outlives every record that names them
        (chalicelib.storage.schema.ERASED_MARK_SECONDS). One read for the whole batch: each learner's
        history item and erased mark."""
        learners = {split_owner(c.owner)[0] for c in records}
        marks = {learner: _mark_key(learner) for learner in learners}
        stored = self._read({(learner, HISTORY) for learner in learners} | set(marks.values())) \
            if learners else {}
        epochs, erased = {}, set()
        for learner in learners:
            history = stored.get((learner, HISTORY), {})
            epochs[learner] = int(history["epoch"]["N"]) if "epoch" in history else 0
            if marks[learner] in stored or "erased_at" in history:
                erased.add(learner)
        kept = []
        for c in records:
            learner, epoch = split_owner(c.owner)
            if learner not in erased and epoch >= epochs[learner]:
                kept.append(c)
        if len(kept) < len(records):
            of_erased = sum(split_owner(c.owner)[0] in erased for c in records)
            log.info(json.dumps({"event": "replaced_history_records_dropped",
                                 "records": len(records) - len(kept), "of_erased_learners": of_erased}))
        return kept

    def _read(self, keys: set) -> Dict[Tuple[str, str], dict]:
        """The items that exist among ``keys``, read consistently."""
        items = self._batch_read(self._table, [_key(key) for key in sorted(keys)])
        return {(item["learner"]["S"], item["item"]["S"]): item for item in items}

    def _read_sessions(self, ids: set) -> Dict[str, dict]:
        """The sessions that exist among ``ids``, with their start and end_time."""
        items = self._batch_read(self._sessions, [{"id": {"S": id_}} for id_ in sorted(ids)],
                                 "id, created_at, end_time")
        return {item["id"]["S"]: item for item in items}

    def _batch_read(self, table: str, keys: List[dict], projection: Optional[str] = None) -> List[dict]:
        found: List[dict] = []
        for start in range(0, len(keys), BATCH_GET_MAX_KEYS):
            request = {table: {"Keys": keys[start:start + BATCH_GET_MAX_KEYS], "ConsistentRead": True,
                               **({"ProjectionExpression": projection} if projection else {})}}
            for attempt in range(BATCH_GET_ATTEMPTS):
                answer = self._client.batch_get_item(RequestItems=request)
                found += answer["Responses"].get(table, [])
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._sleep(0.05 * 2 ** attempt)  # DynamoDB is short of capacity: back off
            else:
                raise RuntimeError(f"DynamoDB left keys of {table} unprocessed")  # the chunk fails
        return found

    def _session_writes(self, chunk: List[Counted], sessions: Dict[str, dict]) -> List[dict]:
        """Per session its reviews' counts added and its end_time moved forward (never before its
        start), on the condition that it still exists with the end_time read. A session that no
        longer exists (its history purged) is left out."""
        added: Dict[str, dict] = {}
        for c in chunk:
            if c.session in sessions:
                start = sessions[c.session]["created_at"]["S"]
                count_on_session(added.setdefault(c.session, {}), c.image, start)
        writes = []
        for id_, figures in sorted(added.items()):
            latest = figures.pop("end_time", None)
            names = {f"#c{n}": name for n, name in enumerate(figures)}
            values = {f":c{n}": {"N": str(value)} for n, value in enumerate(figures.values())}
            update = "ADD " + ", ".join(f"#c{n} :c{n}" for n in range(len(figures)))
            condition = "attribute_exists(id)"
            before = sessions[id_].get("end_time", {}).get("S")
            if latest is not None and (before is None or before < latest):
                update = "SET end_time = :at " + update
                values[":at"] = {"S": latest}
                if before is None:
                    condition += " AND attribute_not_exists(end_time)"
                else:
                    condition += " AND end_time = :was"
                    values[":was"] = {"S": before}
            writes.append({"Update": {
                "TableName": self._sessions, "Key": {"id": {"S": id_}}, "UpdateExpression": update,
                "ConditionExpression": condition, "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values}})
        return writes

    def _writes(self, chunk: List[Counted], stored: Dict[Tuple[str, str], dict]) -> List[dict]:
        adds: Dict[Tuple[str, str], Dict[str, int]] = {}
        latest: Dict[Tuple[str, str], str] = {}  # group -> its latest session day
        days: Dict[Tuple[str, str], set] = {}
        words: Dict[Tuple[str, str], List[int]] = {}  # word -> [correct, wrong] added

        def add(key, figure, value):
            counts = adds.setdefault(key, {})
            counts[figure] = counts.get(figure, 0) + value

        for c in chunk:
            totals, *others = c.aggregates()
            if c.kind == "session":
                group, activity, year = others
                day = c.image["created_at"][:10]
                add(totals, "sessions", 1)
                add(group, "sessions", 1)
                add(activity, "sessions", 1)
                latest[group] = max(latest.get(group, day), day)
                days.setdefault(year, set()).add(day)
            else:
                [word] = others
                add(totals, "reviews", 1)
                add(totals, "correct", int(c.image["correct"]))
                words.setdefault(word, [0, 0])[0 if c.image["correct"] else 1] += 1
        writes = [self._marker(c.marker) for c in chunk]
        for word, (correct, wrong) in words.items():
            before = stored.get(word)
            was = (int(before["correct"]["N"]), int(before["wrong"]["N"])) if before else (0, 0)
            now = (was[0] + correct, was[1] + wrong)
            totals = (word[0], TOTALS)
            add(totals, "words_studied", int(sum(was) == 0))
            add(totals, "mastered", is_mastered(*now) - is_mastered(*was))
            writes.append(self._word(word, before, now))
        for key, counts in adds.items():
            names = {f"#c{n}": name for n, name in enumerate(counts)}
            values = {f":c{n}": {"N": str(value)} for n, value in enumerate(counts.values())}
            update = {"TableName": self._table, "Key": _key(key),
                      "UpdateExpression": "ADD " + ", ".join(f"#c{n} :c{n}" for n in range(len(counts))),
                      "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}
            day = latest.get(key)
            before = stored.get(key, {}).get("last_day", {}).get("S")
            if day and (before is None or before < day):
                # the group's latest day only moves forward, whatever order records arrive in
                update["UpdateExpression"] = "SET last_day = :day " + update["UpdateExpression"]
                values[":day"] = {"S": day}
                if before is None:
                    update["ConditionExpression"] = "attribute_not_exists(last_day)"
                else:
                    update["ConditionExpression"] = "last_day = :was"
                    values[":was"] = {"S": before}
            writes.append({"Update": update})
        for key, added in days.items():
            writes.append({"Update": {"TableName": self._table, "Key": _key(key),
                                      "UpdateExpression": "ADD #days :days",
                                      "ExpressionAttributeNames": {"#days": "days"},
                                      "ExpressionAttributeValues": {":days": {"SS": sorted(added)}}}})
        return writes

    def _marker(self, key: Tuple[str, str]) -> dict:
        return {"Put": {
            "TableName": self._table,
            "Item": {**_key(key), "expires_at": {"N": str(int(self._clock()) + MARKER_TTL_SECONDS)}},
            "ConditionExpression": "attribute_not_exists(#item)",
            "ExpressionAttributeNames": {"#item": "item"}}}

    def _word(self, key: Tuple[str, str], before: Optional[dict], now: Tuple[int, int]) -> dict:
        """The word's new counts, on the condition that it still holds what was read."""
        values = {":correct": {"N": str(now[0])}, ":wrong": {"N": str(now[1])}}
        update = {"TableName": self._table, "Key": _key(key),
                  "UpdateExpression": "SET correct = :correct, wrong = :wrong",
                  "ExpressionAttributeValues": values}
        if before:
            update["ConditionExpression"] = "correct = :was_correct AND wrong = :was_wrong"
            values.update({":was_correct": before["correct"], ":was_wrong": before["wrong"]})
        else:
            update["ConditionExpression"] = "attribute_not_exists(#item)"
            update["ExpressionAttributeNames"] = {"#item": "item"}
        return {"Update": update}

    def _transact(self, items: List[dict]) -> None:
        """One transaction; Changed if a condition failed (a marker or a count read before),
        and a conflict with a concurrent transaction is tried again."""
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=items)
                return
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons:
                    raise Changed() from None
                if "TransactionConflict" not in reasons or attempt == CONFLICT_ATTEMPTS - 1:
                    raise
            self._sleep(random.uniform(0.01, 0.05 * 2 ** attempt))


def chunks(records: List[Counted], limit: int = MAX_TRANSACTION_ITEMS) -> Iterable[List[Counted]]:
    """Consecutive records whose markers and distinct aggregate items fit one transaction."""
    chunk: List[Counted] = []
    items: set = set()
    for c in records:
        own = {c.marker, *c.aggregates(), *([("session", c.session)] if c.session else [])}
        wanted = items | own
        if chunk and len(wanted) > limit:
            yield chunk
            chunk, wanted = [], own
        chunk.append(c)
        items = wanted
    if chunk:
        yield chunk


def _applied(writer: AggregateWriter, chunk: List[Counted]) -> bool:
    try:
        writer.apply(chunk)
        return True
    except Exception as error:  # noqa: BLE001 - its records are applied one by one next
        log.warning(json.dumps({"event": "aggregate_chunk_failed", "records": len(chunk),
                                "cause": f"{type(error).__name__}: {error}"}))
        return False


def _failure(c: Counted) -> dict:
    return {"itemIdentifier": c.record["dynamodb"]["SequenceNumber"]}


def round_record(record: dict, tables: Dict[str, str]) -> Optional[Counted]:
    """A round's memory item (chalicelib.streams.rounds), as a record of its owner."""
    reviews = carried_reviews(record, tables["memories"], _table_of)
    if reviews is None:
        return None
    return Counted(record, reviews[0]["owner"], ROUND, {"reviews": reviews})


@running_as(AGGREGATES)
def process(records: Iterable[dict], tables: Dict[str, str], writer: AggregateWriter) -> dict:
    """The batch's records in as few transactions as fit (each record exactly once); a chunk
    that fails is applied again record by record, so that only a record that fails alone is
    reported, by its sequence number: Lambda retries from the first one reported. A round's
    memory item has its carried reviews written where a crash left them unwritten."""
    records = list(records)
    mine = [c for c in (counted(record, tables) for record in records) if c is not None]
    rounds = [c for c in (round_record(record, tables) for record in records) if c is not None]
    try:
        current = writer.current(mine + rounds)
    except Exception as error:  # noqa: BLE001 - whose history is current is unknown: all are retried
        log.error(json.dumps({"event": "epochs_unread", "records": len(mine) + len(rounds),
                              "cause": f"{type(error).__name__}: {error}"}))
        return {"batchItemFailures": [_failure(c) for c in mine + rounds]}
    mine = [c for c in current if c.kind != ROUND]
    failures = []
    for chunk in chunks(mine):
        if len(chunk) > 1 and _applied(writer, chunk):
            continue
        for c in chunk:
            try:
                writer.apply([c])
            except Exception as error:  # noqa: BLE001 - one bad record must not fail the batch
                log.error(json.dumps({"event": "aggregate_failed", "event_id": c.record.get("eventID"),
                                      "cause": f"{type(error).__name__}: {error}"}))
                failures.append(_failure(c))
    for c in (c for c in current if c.kind == ROUND):
        try:
            written = writer.complete_round(c.image["reviews"])
            if written:
                log.warning(json.dumps({"event": "round_reviews_written", "reviews": written}))
        except Exception as error:  # noqa: BLE001 - one bad record must not fail the batch
            log.error(json.dumps({"event": "round_completion_failed", "event_id": c.record.get("eventID"),
                                  "cause": f"{type(error).__name__}: {error}"}))
            failures.append(_failure(c))
    return {"batchItemFailures": sorted(failures, key=lambda f: int(f["itemIdentifier"]))}


def recount(sessions: Iterable[dict], reviews: Iterable[dict]) -> Dict[tuple, dict]:
    """Every aggregate item as the stored sessions and reviews say it should be:
    (owner, item) -> attributes. The audit compares it with the aggregates table."""
    expected: Dict[tuple, dict] = {}

    def item(owner_: str, name: str) -> dict:
        return expected.setdefault((owner_, name), {})

    for session in sessions:
        owner_, day = _owner(session), session["created_at"][:10]
        totals = item(owner_, TOTALS)
        totals["sessions"] = totals.get("sessions", 0) + 1
        group = item(owner_, group_item(session["group_id"]))
        group["sessions"] = group.get("sessions", 0) + 1
        group["last_day"] = max(group.get("last_day", day), day)
        activity = item(owner_, activity_item(session["study_activity_id"]))
        activity["sessions"] = activity.get("sessions", 0) + 1
        item(owner_, days_item(day[:4])).setdefault("days", set()).add(day)
    for review in reviews:
        owner_ = _owner(review)
        word = item(owner_, word_item(review["word_id"]))
        word["correct"] = word.get("correct", 0) + int(review["correct"])
        word["wrong"] = word.get("wrong", 0) + int(not review["correct"])
    for (owner_, name), word in list(expected.items()):
        if name.startswith("word#"):
            totals = item(owner_, TOTALS)
            for figure, value in (("reviews", word["correct"] + word["wrong"]), ("correct", word["correct"]),
                                  ("words_studied", 1), ("mastered", int(is_mastered(word["correct"],
                                                                                       word["wrong"])))):
                totals[figure] = totals.get(figure, 0) + value
    return expected
