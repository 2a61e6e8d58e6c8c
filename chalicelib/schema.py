"""The one definition of the service's DynamoDB tables: keys, indexes, env vars.

Tests, the local run and the CloudFormation template all build tables from
``create_table_input``; nothing else spells out a key schema.
"""
from typing import Dict, NamedTuple, Optional, Tuple

Attribute = Tuple[str, str]  # (name, DynamoDB scalar type: "S" or "N")


# NamedTuples, not dataclasses: a frozen dataclass costs ~0.4 ms to define at every cold start.
class Index(NamedTuple):
    name: str
    partition_key: Attribute
    sort_key: Optional[Attribute] = None


class Table(NamedTuple):
    env_var: str
    partition_key: Attribute
    indexes: Tuple[Index, ...] = ()
    sort_key: Optional[Attribute] = None
    stream: Optional[str] = None  # StreamViewType, for the aggregates consumer
    ttl_attribute: Optional[str] = None


SESSIONS_BY_GROUP = Index("by_group", ("group_id", "N"), ("created_at", "S"))
SESSIONS_BY_ACTIVITY = Index("by_activity", ("study_activity_id", "N"), ("created_at", "S"))
# Every session carries feed="all", so the newest-first list of all sessions is
# one Query. That puts every create on one index partition: accepted, because
# one partition takes ~1,000 writes/s, far above this portal's create rate. Past
# that, shard the value ("all#0".."all#N") and merge N queries.
SESSIONS_NEWEST = Index("newest", ("feed", "S"), ("created_at", "S"))
FEED_ALL = "all"

# Reviews: one transaction writes the review item and updates its session item (ADD
# review_items_count and the word's correct_/wrong_ counter, SET end_time unless a later review
# already set it), with a ConditionCheck on the word when the word is not cached. Counts then
# cannot drift from the stored reviews: both writes happen or neither does, a retried request
# is recognised (ClientRequestToken, and the review's write_token), and DynamoDB serialises
# transactions on one session. The session indexes project keys only, so a counter update
# rewrites no index (with ALL projections it rewrote all three); lists read the live items
# with one BatchGetItem per page.
WORD_COUNTER_PREFIXES = {True: "correct_", False: "wrong_"}  # + word id: per-word counts

# Aggregates (chalicelib.aggregates) are items of one table, all of a learner in its partition:
# sort key "totals", "group#<id>", "activity#<id>", "days#<yyyy>", "word#<id>", and "seen#..."
# markers that expire (TTL) after the streams' 24 h retention, with margin.
AGGREGATES_KEY = (("learner", "S"), ("item", "S"))
IMPLICIT_LEARNER = "implicit"  # every session and review while a stage has no sign-in
TOTALS = "totals"


def group_item(group_id: int) -> str:
    return f"group#{group_id}"


def activity_item(activity_id: int) -> str:
    return f"activity#{activity_id}"


def days_item(year: str) -> str:
    return f"days#{year}"


def word_item(word_id: int) -> str:
    return f"word#{word_id}"

# The consumer reads only new items: a session's and a review's first image.
STREAM_VIEW = "NEW_IMAGE"

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
    "word_reviews": Table("WORD_REVIEWS_TABLE", ("id", "S"), stream=STREAM_VIEW),
    "aggregates": Table("AGGREGATES_TABLE", AGGREGATES_KEY[0], sort_key=AGGREGATES_KEY[1],
                        ttl_attribute="expires_at"),
}


def _key_schema(partition_key: Attribute, sort_key: Optional[Attribute] = None):
    schema = [{"AttributeName": partition_key[0], "KeyType": "HASH"}]
    if sort_key:
        schema.append({"AttributeName": sort_key[0], "KeyType": "RANGE"})
    return schema


def create_table_input(table: Table, table_name: str) -> dict:
    """CreateTable parameters; also valid as AWS::DynamoDB::Table properties but for
    StreamSpecification's StreamEnabled, which CloudFormation does not take."""
    attributes = {table.partition_key} | ({table.sort_key} if table.sort_key else set())
    for index in table.indexes:
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
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition_key, index.sort_key),
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
            for index in table.indexes
        ]
    if table.stream:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return params
