"""A `make run` data folder from an older checkout: its tables get the definition's indexes, and
the sessions and reviews stored before learners belong to the implicit learner's history."""
import uuid

import pytest

from chalicelib.config import REQUEST_DEADLINE, build_services
from chalicelib.storage.dynamo import from_item, to_item
from chalicelib.storage.schema import IMPLICIT_LEARNER, TABLES, create_table_input
from chalicelib.streams.audit import memory_differences
from devtools import dynamodb_local
from devtools.provision import delete_tables, provision

OLD_SESSION_INDEXES = [  # what the sessions table had before learners
    {"IndexName": "by_group", "KeySchema": [{"AttributeName": "group_id", "KeyType": "HASH"},
                                             {"AttributeName": "created_at", "KeyType": "RANGE"}],
     "Projection": {"ProjectionType": "KEYS_ONLY"}},
    {"IndexName": "newest", "KeySchema": [{"AttributeName": "feed", "KeyType": "HASH"},
                                           {"AttributeName": "created_at", "KeyType": "RANGE"}],
     "Projection": {"ProjectionType": "KEYS_ONLY"}},
]


@pytest.fixture
def old_tables(dynamodb_local_server):
    client = dynamodb_local.client(dynamodb_local_server.endpoint)
    names = {logical: f"old-{uuid.uuid4().hex[:8]}-{logical}" for logical in TABLES}
    for logical, table in TABLES.items():
        if logical == "memories":  # newer than that folder: provision creates it
            continue
        params = create_table_input(table, names[logical])
        params.pop("GlobalSecondaryIndexes", None)
        keys = {key["AttributeName"] for key in params["KeySchema"]}
        params["AttributeDefinitions"] = [
            a for a in params["AttributeDefinitions"] if a["AttributeName"] in keys]
        if logical == "study_sessions":
            params["GlobalSecondaryIndexes"] = OLD_SESSION_INDEXES
            params["AttributeDefinitions"] = [{"AttributeName": n, "AttributeType": t} for n, t in (
                ("id", "S"), ("group_id", "N"), ("created_at", "S"), ("feed", "S"))]
        client.create_table(**params)
    yield client, names
    delete_tables(client, names)


def test_an_older_data_folder_is_migrated_and_its_history_is_the_implicit_learner_s(old_tables):
    client, names = old_tables
    session = {"id": str(uuid.uuid4()), "group_id": 2, "study_activity_id": 1,
               "created_at": "2026-11-20T10:00:00Z", "feed": "all", "review_items_count": 1, "correct_11": 1}
    client.put_item(TableName=names["study_sessions"], Item=to_item(session))
    client.put_item(TableName=names["word_reviews"], Item=to_item({
        "id": str(uuid.uuid4()), "study_session_id": session["id"], "word_id": 11, "correct": True,
        "created_at": "2026-11-20T10:01:00Z"}))
    client.put_item(TableName=names["aggregates"], Item=to_item({"learner": "implicit", "item": "totals",
                                                                 "sessions": 1}))

    provision(client, names)
    provision(client, names)  # and again: nothing more to do

    indexes = client.describe_table(TableName=names["study_sessions"])["Table"]["GlobalSecondaryIndexes"]
    assert sorted(i["IndexName"] for i in indexes) == sorted(i.name for i in TABLES["study_sessions"].indexes)
    key = {"id": {"S": session["id"]}}
    stored = from_item(client.get_item(TableName=names["study_sessions"], Key=key)["Item"])
    assert (stored["owner"], stored["owner_group"]) == ("implicit#0", "implicit#0#group#2")
    service = build_services({table.env_var: names[logical] for logical, table in TABLES.items()}, client)
    REQUEST_DEADLINE.start()  # as each request does
    assert [s["id"] for s in service.sessions.list_all(IMPLICIT_LEARNER, {})["items"]] == [session["id"]]
    figures = service.dashboard().stats(IMPLICIT_LEARNER)
    assert (figures["total_sessions"], figures["total_words_studied"]) == (1, 1)
    aggregates = client.scan(TableName=names["aggregates"])["Items"]
    assert {item["learner"]["S"] for item in aggregates} == {"implicit#0"}
    memory = client.get_item(TableName=names["memories"], Key={"scope": {"S": "implicit#0"},
                                                               "word_id": {"N": "11"}})["Item"]
    assert from_item(memory)["applied"] == 1  # the old review replayed, and indexed by word
    assert memory_differences(client, names) == []
