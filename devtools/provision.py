"""Create the service's tables from the one definition and load the reference data.

Idempotent: an existing table or item is left as it is, but for the migration of tables an
older checkout made (`make run` data folders)."""
import time
from typing import Mapping

from chalicelib.storage.dynamo import from_item, to_item
from chalicelib.storage.schema import IMPLICIT_LEARNER, TABLES, create_table_input, index_keys, owner

GROUPS = [
    {"id": 1, "name": "Core Verbs"},
    {"id": 2, "name": "Core Adjectives"},
]
STUDY_ACTIVITIES = [
    {
        "id": 1,
        "name": "Typing Tutor",
        "url": "http://localhost:8080",
        "preview_url": "/assets/study_activities/typing-tutor.png",
    },
]

# (kanji, romaji, english) of the seed words; ids 1-10 are group 1's, 11-20 group 2's.
_VERBS = [("食べる", "taberu", "to eat"), ("飲む", "nomu", "to drink"), ("行く", "iku", "to go"),
          ("来る", "kuru", "to come"), ("見る", "miru", "to see"), ("聞く", "kiku", "to listen"),
          ("話す", "hanasu", "to speak"), ("読む", "yomu", "to read"), ("書く", "kaku", "to write"),
          ("買う", "kau", "to buy")]
_ADJECTIVES = [("大きい", "ookii", "big"), ("小さい", "chiisai", "small"), ("新しい", "atarashii", "new"),
               ("古い", "furui", "old"), ("高い", "takai", "expensive"), ("安い", "yasui", "cheap"),
               ("暑い", "atsui", "hot"), ("寒い", "samui", "cold"), ("楽しい", "tanoshii", "fun"),
               ("難しい", "muzukashii", "difficult")]
WORDS = [
    {"id": number, "kanji": kanji, "romaji": romaji, "english": english, "group_ids": [group_id]}
    for group_id, words in ((1, _VERBS), (2, _ADJECTIVES))
    for number, (kanji, romaji, english) in enumerate(words, start=1 + 10 * (group_id - 1))
]


def ensure_tables(client, names: Mapping[str, str]) -> list:
    """Create each missing table, wait until all are active; return those created."""
    existing = set(_all_table_names(client))
    created = []
    for logical, table in TABLES.items():
        if names[logical] not in existing:
            client.create_table(**create_table_input(table, names[logical]))
            created.append(names[logical])
    waiter = client.get_waiter("table_exists")
    for name in created:
        waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    for logical, table in TABLES.items():
        if table.ttl_attribute and names[logical] in created:
            client.update_time_to_live(TableName=names[logical], TimeToLiveSpecification={
                "Enabled": True, "AttributeName": table.ttl_attribute})
        if table.stream and names[logical] not in created:
            enable_stream(client, names[logical], table.stream)
    return created


MEMORIES_NAME_SUFFIX, RETIRED_MEMORIES_SUFFIX = "-word-memory", "-memories"


def migrate(client, names: Mapping[str, str], created: list) -> int:
    """Bring tables made by an older checkout to the definition; the number of sessions and
    reviews that were given an owner (then their aggregates are counted again)."""
    changed = [logical for logical, table in TABLES.items() if names[logical] not in created
               and match_indexes(client, names[logical], create_table_input(table, names[logical]))]
    given = 0
    if "study_sessions" in changed:
        from chalicelib.streams.audit import rebuild

        given = adopt_unowned(client, names)
        rebuild(client, names)
    # reviews from before scheduling, indexed by word, or a new memories table (one item a word,
    # where an older checkout's table of another name held group copies and an index by due):
    # the memory replayed from the reviews
    if "word_reviews" in changed or (names["memories"] in created and names["word_reviews"] not in created):
        from chalicelib.streams.audit import rebuild_memories

        rebuild_memories(client, names)
        retired = names["memories"].replace(MEMORIES_NAME_SUFFIX, RETIRED_MEMORIES_SUFFIX)
        if retired != names["memories"] and retired in set(_all_table_names(client)):
            client.delete_table(TableName=retired)
    return given


def match_indexes(client, table_name: str, wanted: dict) -> bool:
    """Give a table made by an older checkout the indexes of the definition, one change at a
    time as DynamoDB requires: create the missing, delete the others. Whether any changed."""
    defined = {index["IndexName"]: index for index in wanted.get("GlobalSecondaryIndexes", [])}
    description = client.describe_table(TableName=table_name)["Table"]
    present = {index["IndexName"] for index in description.get("GlobalSecondaryIndexes", [])}
    changes = [{"Delete": {"IndexName": name}} for name in sorted(present - set(defined))]
    changes += [{"Create": defined[name]} for name in sorted(set(defined) - present)]
    for change in changes:
        client.update_table(TableName=table_name, AttributeDefinitions=wanted["AttributeDefinitions"],
                            GlobalSecondaryIndexUpdates=[change])
        _wait_for_indexes(client, table_name)
    return bool(changes)


def _wait_for_indexes(client, table_name: str) -> None:
    for _ in range(120):
        indexes = client.describe_table(TableName=table_name)["Table"].get("GlobalSecondaryIndexes", [])
        if all(index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in indexes):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the indexes of {table_name} did not become active")


def adopt_unowned(client, names: Mapping[str, str]) -> int:
    """Sessions and reviews stored before learners had histories belong to the implicit
    learner's first one: give them its owner and index keys. The number of items given."""
    given = 0
    implicit = owner(IMPLICIT_LEARNER, 0)
    for logical in ("study_sessions", "word_reviews"):
        pages = client.get_paginator("scan").paginate(
            TableName=names[logical], FilterExpression="attribute_not_exists(#owner)",
            ExpressionAttributeNames={"#owner": "owner"})
        for item in (from_item(raw) for page in pages for raw in page["Items"]):
            keys = (index_keys(implicit, item["group_id"], item["study_activity_id"])
                    if logical == "study_sessions" else {"owner": implicit})
            client.update_item(TableName=names[logical], Key={"id": {"S": item["id"]}},
                               UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in keys),
                               ExpressionAttributeNames={f"#{k}": k for k in keys},
                               ExpressionAttributeValues={f":{k}": {"S": v} for k, v in keys.items()})
            given += 1
    return given


def enable_stream(client, table_name: str, view: str) -> bool:
    """Turn on the stream of a table made before it had one (a `make run` data folder from an
    older checkout); whether it was off. What was written before is not in the stream."""
    spec = client.describe_table(TableName=table_name)["Table"].get("StreamSpecification", {})
    if spec.get("StreamEnabled"):
        return False
    client.update_table(TableName=table_name,
                        StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    return True


def _all_table_names(client):
    for page in client.get_paginator("list_tables").paginate():
        yield from page["TableNames"]


def seed_reference_data(client, names: Mapping[str, str]) -> None:
    for logical, items in (("groups", GROUPS), ("study_activities", STUDY_ACTIVITIES), ("words", WORDS)):
        for item in items:
            try:
                client.put_item(
                    TableName=names[logical],
                    Item=to_item(item),
                    ConditionExpression="attribute_not_exists(id)",
                )
            except client.exceptions.ConditionalCheckFailedException:
                pass


def provision(client, names: Mapping[str, str]) -> list:
    """Missing tables created, older ones migrated, reference data loaded; returns the tables
    created now."""
    created = ensure_tables(client, names)
    seed_reference_data(client, names)
    adopted = migrate(client, names, created)
    if adopted:
        print(f"{adopted} sessions and reviews from before learners now belong to the implicit learner; "
              "their aggregates were counted again.", flush=True)
    return created


def delete_tables(client, names: Mapping[str, str]) -> None:
    for name in names.values():
        client.delete_table(TableName=name)
