"""The one definition of the service's DynamoDB tables: keys, indexes, env vars.

Tests, the local run and the CloudFormation template all build tables from
``create_table_input``; nothing else spells out a key schema.
"""
import hashlib
import re
from typing import Dict, NamedTuple, Optional, Tuple

Attribute = Tuple[str, str]  # (name, DynamoDB scalar type: "S" or "N")


# NamedTuples, not dataclasses: a frozen dataclass costs ~0.4 ms to define at every cold start.
class Index(NamedTuple):
    name: str
    partition_key: Attribute
    sort_key: Optional[Attribute] = None
    projection: Tuple[str, ...] = ()  # attributes beyond the keys; ("*",) for all of them


class Table(NamedTuple):
    env_var: str
    partition_key: Attribute
    indexes: Tuple[Index, ...] = ()
    sort_key: Optional[Attribute] = None
    stream: Optional[str] = None  # StreamViewType, for the aggregates consumer
    ttl_attribute: Optional[str] = None
    local_indexes: Tuple[Index, ...] = ()  # same partition key as the table's


# Every session and review belongs to one learner's history, its *owner*: "<learner>#<epoch>".
# The learner is the Cognito user's `sub` (or IMPLICIT_LEARNER on a stage without sign-in); the
# epoch counts the learner's resets (chalicelib.learners.histories). Every index partition is one
# owner's, so no partition takes every create, and a reset leaves the old partitions behind.
SESSIONS_BY_GROUP = Index("by_owner_group", ("owner_group", "S"), ("created_at", "S"))
SESSIONS_BY_ACTIVITY = Index("by_owner_activity", ("owner_activity", "S"), ("created_at", "S"))
SESSIONS_NEWEST = Index("by_owner", ("owner", "S"), ("created_at", "S"))
IMPLICIT_LEARNER = "implicit"  # every session and review while a stage has no sign-in


def owner(learner: str, epoch: int) -> str:
    return f"{learner}#{epoch}"


def split_owner(owner_: str) -> Tuple[str, Optional[int]]:
    """"<learner>#<epoch>" -> (learner, epoch); a bare learner (its own history item) has none."""
    learner, _, epoch = owner_.rpartition("#")
    return (learner, int(epoch)) if learner and epoch.isdigit() else (owner_, None)


def partition(index: Index, owner_: str, id_: Optional[int] = None) -> str:
    """The value of ``index``'s partition key that holds the owner's sessions (of group or
    activity ``id_``)."""
    if index is SESSIONS_NEWEST:
        return owner_
    return f"{owner_}#{'group' if index is SESSIONS_BY_GROUP else 'activity'}#{id_}"


def index_keys(owner_: str, group_id: int, activity_id: int) -> dict:
    """The index attributes of a session: its owner's lists of all, of a group, of an activity."""
    return {"owner": owner_, "owner_group": partition(SESSIONS_BY_GROUP, owner_, group_id),
            "owner_activity": partition(SESSIONS_BY_ACTIVITY, owner_, activity_id)}


# Reviews: one transaction writes the review items and their words' memory items (chalicelib.study.reviews),
# after one read of the session and that memory. A session's figures (review_items_count, the
# per-word correct_/wrong_ counters and end_time) are the stream consumer's: it adds each review
# record once (chalicelib.streams.aggregates), so they equal what the stored reviews say once
# their records are applied. The session indexes project keys only, so a counter update
# rewrites no index; lists read the live items with one BatchGetItem per page.
WORD_COUNTER_PREFIXES = {True: "correct_", False: "wrong_"}  # + word id: per-word counts

# Aggregates (chalicelib.streams.aggregates) are items of one table, all of an owner in its partition
# (the key attribute `learner` holds the owner, "<learner>#<epoch>"): sort key "totals",
# "group#<id>", "activity#<id>", "days#<yyyy>", "word#<id>", and "seen#..." markers that expire
# (TTL) after the streams' 24 h retention, with margin. A learner's own item (`learner` = the
# bare learner, `item` = HISTORY) holds the epoch; the sparse index PURGES lists the learners
# with a reset whose old history is not yet deleted.
AGGREGATES_KEY = (("learner", "S"), ("item", "S"))
HISTORY = "history"
# A learner who erased their account (chalicelib.study.data_rights) leaves a mark that refuses their
# still-valid ID tokens and tells the aggregates consumer to drop their records, a tombstone
# keyed by a hash of the learner, so that it names nobody. TTL removes it 25 h after the erasure,
# once no token of theirs can be valid (Cognito's longest ID token lasts a day) and no record
# naming them can be delivered any more: their last write lands within a request's budget (2.5 s
# deployed) of the mark, a stream keeps a record 24 h, and the consumer's event source mapping
# drops records older than that (MaximumRecordAgeInSeconds 86,400,
# devtools/consumer_template.py), also when re-created at TRIM_HORIZON.
ERASED = "erased"
ERASED_MARK_SECONDS = 24 * 3600 + 3600


def erased_mark(learner: str) -> dict:
    return {"learner": f"{ERASED}#{hashlib.sha256(learner.encode()).hexdigest()}", "item": ERASED}
PURGES = Index("purges", ("purge_pending", "S"), ("learner", "S"))
PURGE_PENDING = "pending"  # the one value of purge_pending: the index is one small partition
TOTALS = "totals"


def group_item(group_id: int) -> str:
    return f"group#{group_id}"


def activity_item(activity_id: int) -> str:
    return f"activity#{activity_id}"


def days_item(year: str) -> str:
    return f"days#{year}"


WORD_ITEMS = "word#"


def word_item(word_id: int) -> str:
    return f"{WORD_ITEMS}{word_id}"


# The name of every aggregate item above but the consumer's markers.
AGGREGATE_ITEM = re.compile(rf"{TOTALS}|(group|activity|word)#[1-9][0-9]{{0,15}}|days#[0-9]{{4}}")


# Reviews of one word by one owner, in the order the scheduler replays them (chalicelib.core.scheduling):
# `reviewed_key` is "<reviewed_at>#<order>", the order a UUIDv7 made as the review was written
# (chalicelib.core.repeats.time_ordered_id): the review's id, unless an Idempotency-Key named it.
REVIEWS_BY_WORD = Index("by_owner_word", ("owner_word", "S"), ("reviewed_key", "S"), ("correct",))


def word_history(owner_: str, word_id: int) -> str:
    """The REVIEWS_BY_WORD partition of an owner's reviews of a word."""
    return f"{owner_}#word#{word_id}"


def round_review(memory: dict, review_id: str, carried: dict) -> dict:
    """A review's item from the copy a round's memory item carries (ROUND_REVIEWS)."""
    return {**carried, "id": review_id, "owner": memory["scope"], "word_id": memory["word_id"],
            "owner_word": word_history(memory["scope"], memory["word_id"])}


# Memory (chalicelib.core.scheduling): the FSRS state of each word an owner reviewed, one item per
# (owner, word): the memories table is keyed (scope, word_id), scope the owner. A review writes
# that one item and no index entry, so a review's transaction is its review, its session and its
# words' items. "What is due" reads the owner's partition: one Query, the learner's reviewed words
# (chalicelib.study.due_words). Every item carries `owner`, for the purge.
# Each memory item records the `version` of the learner's scheduler it was computed with (absent: 0).
#
# The learner's scheduler (chalicelib.core.scheduling.SchedulerSettings: FSRS parameters, desired
# retention, version; and the last fit's figures) is one more item of the same partition, at
# word_id SCHEDULER_WORD_ID, which no word has (ids start at 1): a review reads it in the one
# BatchGetItem that reads its words' memory, a reset (a new owner) starts from the defaults, and
# the purge and an erasure delete it with the partition. Every reader that means the words
# (what is due, the export's memories, the audit) starts after it: `word_id > 0`.
SCHEDULER_WORD_ID = 0


# A group item with this attribute is being imported (devtools/import_words.py): not shown until
# the import has stored its words and removed the attribute (chalicelib.learners.reference_cache).
GROUP_IMPORTING = "importing"

# The consumer reads only new items: a session's and a review's first image, and a memory item
# as a round wrote it.
STREAM_VIEW = "NEW_IMAGE"
# A round's reviews ride on its words' memory items, written in one transaction (the round's
# commit point); the reviews' own items follow outside it, and the consumer writes any a crash
# left unwritten from the memory items' stream records (chalicelib.streams.rounds).
ROUND_REVIEWS = "round_reviews"
ROUND_MARK = "round_committed"  # true beside ROUND_REVIEWS: what the stream's filter can match

TABLES: Dict[str, Table] = {
    "groups": Table("GROUPS_TABLE", ("id", "N")),
    "study_activities": Table("STUDY_ACTIVITIES_TABLE", ("id", "N")),
    "words": Table("WORDS_TABLE", ("id", "N")),
    "study_sessions": Table(
        "STUDY_SESSIONS_TABLE",
        ("id", "S"),
        (SESSIONS_BY_GROUP, SESSIONS_BY_ACTIVITY, SESSIONS_NEWEST),
        stream=STREAM_VIEW,
    ),
    "word_reviews": Table("WORD_REVIEWS_TABLE", ("id", "S"), (REVIEWS_BY_WORD,), stream=STREAM_VIEW),
    "aggregates": Table("AGGREGATES_TABLE", AGGREGATES_KEY[0], (PURGES,), sort_key=AGGREGATES_KEY[1],
                        ttl_attribute="expires_at"),
    "memories": Table("MEMORIES_TABLE", ("scope", "S"), sort_key=("word_id", "N"), stream=STREAM_VIEW),
}


def _key_schema(partition_key: Attribute, sort_key: Optional[Attribute] = None):
    schema = [{"AttributeName": partition_key[0], "KeyType": "HASH"}]
    if sort_key:
        schema.append({"AttributeName": sort_key[0], "KeyType": "RANGE"})
    return schema


def _index_input(index: Index) -> dict:
    if index.projection == ("*",):
        projection = {"ProjectionType": "ALL"}
    elif index.projection:
        projection = {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(index.projection)}
    else:
        projection = {"ProjectionType": "KEYS_ONLY"}
    return {"IndexName": index.name, "KeySchema": _key_schema(index.partition_key, index.sort_key),
            "Projection": projection}


def create_table_input(table: Table, table_name: str) -> dict:
    """CreateTable parameters; also valid as AWS::DynamoDB::Table properties but for
    StreamSpecification's StreamEnabled, which CloudFormation does not take."""
    attributes = {table.partition_key} | ({table.sort_key} if table.sort_key else set())
    for index in table.indexes + table.local_indexes:
        attributes.add(index.partition_key)
        if index.sort_key:
            attributes.add(index.sort_key)
    params = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _key_schema(table.partition_key, table.sort_key),
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in sorted(attributes)
        ],
    }
    if table.indexes:
        params["GlobalSecondaryIndexes"] = [_index_input(index) for index in table.indexes]
    if table.local_indexes:
        params["LocalSecondaryIndexes"] = [_index_input(index) for index in table.local_indexes]
    if table.stream:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return params
