"""Settings' Reset History (POST /api/study-sessions/reset): one small write starts the learner's
next history; nothing from before is listed, counted or readable, and the purge deletes it later."""
import pytest

from chalicelib.storage.access import FUNCTIONS
from chalicelib.storage.dynamo import from_item, to_item
from chalicelib.streams.audit import differences
from chalicelib.streams.purge import HistoryPurger
from tests.helpers import DynamoDBCalls, assert_error, scan

RESET = "/api/study-sessions/reset"


@pytest.fixture(autouse=True)
def resets(api):
    api.restart(resets=True)  # as on the local and dev stages


def create(api, group_id=1, headers=None):
    response = api.post({"group_id": group_id, "study_activity_id": 1}, headers=headers)
    assert response.status_code == 201, response.body
    return response.json_body


def review(api, session, word_id=1, correct=True):
    return api.post({"word_id": word_id, "correct": correct},
                    path=f"/api/study-sessions/{session['id']}/review")


def reset(api):
    """As the frontend's Settings page sends it: JSON content type, no body."""
    return api.http.post(RESET, headers={"Content-Type": "application/json"}, body="")


@pytest.fixture
def history(api):
    """Two sessions with reviews, counted by the consumer."""
    sessions = [create(api, group_id=1), create(api, group_id=2)]
    for word, correct in ((1, True), (2, False), (1, True)):
        assert review(api, sessions[0], word, correct).status_code == 201
    assert review(api, sessions[1], 11, True).status_code == 201
    api.count_history()
    assert api.get("/dashboard/stats").json_body["total_sessions"] == 2
    return sessions


def test_after_a_reset_nothing_from_before_is_listed_counted_or_readable(api, history):
    response = reset(api)

    assert (response.status_code, response.json_body) == (200, {"message": "Study history has been reset."})
    assert api.get("/dashboard/stats").json_body == {
        "total_vocabulary": 20, "total_words_studied": 0, "mastered_words": 0, "success_rate": 0,
        "total_sessions": 0, "active_groups": 0, "current_streak": 0, "words_due": 0}
    assert api.get("/dashboard/recent-session").body == b"null"
    assert api.get("/api/study-sessions").json_body == {"items": [], "next_cursor": None}
    assert api.get("/api/study-sessions?page=1&per_page=10").json_body["total"] == 0
    assert api.get("/api/groups/1/study-sessions").json_body["items"] == []
    assert api.get("/groups/1/study_sessions?page=1&sort_by=startTime&order=desc").json_body[
        "study_sessions"] == []
    assert api.get("/groups/1/study_sessions?page=1&sort_by=end_time&order=asc").json_body[
        "study_sessions"] == []
    assert api.get("/api/study-activities/1/sessions").json_body["items"] == []
    assert {(w["correct_count"], w["wrong_count"]) for w in api.get("/words?page=1").json_body["words"]} == {
        (0, 0)}
    assert api.get("/words/1").json_body["word"]["correct_count"] == 0
    for session in history:
        assert_error(api.get(f"/api/study-sessions/{session['id']}"), 404, "not_found")
        assert_error(review(api, session), 404, "not_found", "study session does not exist")
    assert len(scan(api, "study_sessions")) == 2  # still stored, until the purge


def test_the_new_history_counts_from_zero(api, history):
    reset(api)
    session = create(api, group_id=2)
    assert review(api, session, 11, False).status_code == 201
    api.count_history()

    figures = api.get("/dashboard/stats").json_body
    assert (figures["total_sessions"], figures["total_words_studied"], figures["success_rate"]) == (1, 1, 0)
    assert [s["id"] for s in api.get("/api/study-sessions").json_body["items"]] == [session["id"]]
    assert api.get("/words/11").json_body["word"]["wrong_count"] == 1
    assert api.get(f"/api/study-sessions/{session['id']}").status_code == 200
    assert differences(api.dynamodb, api.names) == []  # the audit agrees; the epoch item is not an aggregate


def test_an_idempotency_key_sent_again_after_a_reset_starts_a_new_session(api):
    before = create(api, headers={"Idempotency-Key": "k-1"})
    reset(api)

    response = api.post({"group_id": 1, "study_activity_id": 1}, headers={"Idempotency-Key": "k-1"})

    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert response.json_body["id"] != before["id"]


def test_the_reset_is_one_small_write_whatever_the_history(api, history):
    with DynamoDBCalls(api.dynamodb) as calls:
        assert reset(api).status_code == 200

    assert calls.operations == ["UpdateItem"]
    assert [name for _, named in calls.tables for name in named] == [api.names["aggregates"]]


def test_a_stage_with_resets_disabled_answers_403_and_keeps_everything(api, history):
    api.restart(resets=False)  # as on prod

    with DynamoDBCalls(api.dynamodb) as calls:
        response = reset(api)

    assert_error(response, 403, "forbidden", "turned off")
    assert calls.operations == []
    assert api.get("/dashboard/stats").json_body["total_sessions"] == 2
    assert api.get(f"/api/study-sessions/{history[0]['id']}").status_code == 200


def test_the_purge_deletes_every_old_history_and_only_them(api, history):
    reset(api)
    middle = create(api)  # in the second history, reset again below
    review(api, middle)
    reset(api)
    kept = create(api, group_id=2)
    assert review(api, kept, 12, True).status_code == 201
    api.count_history()
    old_aggregates = [i for i in scan(api, "aggregates") if i["learner"] in ("implicit#0", "implicit#1")]
    old_memories = [i for i in scan(api, "memories") if i["owner"] in ("implicit#0", "implicit#1")]

    deleted = HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge()

    assert [s["id"] for s in scan(api, "study_sessions")] == [kept["id"]]
    assert [(r["study_session_id"], r["word_id"]) for r in scan(api, "word_reviews")] == [(kept["id"], 12)]
    owners = {item["learner"] for item in scan(api, "aggregates")}
    assert owners == {"implicit#2", "implicit"}  # the new history's aggregates, and the epoch item
    assert {item["owner"] for item in scan(api, "memories")} == {"implicit#2"}
    # sessions, reviews, aggregates, memories (per word its state, a group copy; per group its set)
    assert old_aggregates and old_memories
    assert deleted == 3 + 5 + len(old_aggregates) + len(old_memories)
    assert HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge() == 0  # nothing pending any more
    assert api.get("/dashboard/stats").json_body["total_sessions"] == 1


def test_a_reset_is_purged_only_once_its_grace_period_is_over(api, history):
    """A create that read the old epoch just before the reset may still be writing into it."""
    reset(api)
    reset_at = from_item(api.dynamodb.get_item(TableName=api.names["aggregates"], Key={
        "learner": {"S": "implicit"}, "item": {"S": "history"}}, ConsistentRead=True)["Item"])["reset_at"]

    early = HistoryPurger(api.dynamodb, api.names, grace_seconds=600, clock=lambda: reset_at + 599).purge()
    assert early == 0 and len(scan(api, "study_sessions")) == 2
    late_writer = create(api)  # stands for a create that read epoch 0 before the reset
    api.dynamodb.update_item(TableName=api.names["study_sessions"], Key={"id": {"S": late_writer["id"]}},
                             UpdateExpression="SET #o = :old", ExpressionAttributeNames={"#o": "owner"},
                             ExpressionAttributeValues={":old": {"S": "implicit#0"}})

    later = HistoryPurger(api.dynamodb, api.names, grace_seconds=600, clock=lambda: reset_at + 600).purge()

    assert later > 0 and scan(api, "study_sessions") == []


class PurgeReads:
    """Each DynamoDB call a client makes, with what it asked for."""

    def __init__(self, client):
        self.calls, self._client = [], client

    def __enter__(self):
        self._client.meta.events.register("before-parameter-build.dynamodb", self._record, unique_id=id(self))
        return self

    def _record(self, model, params, **_):
        self.calls.append((model.name, dict(params)))

    def __exit__(self, *exc):
        self._client.meta.events.unregister("before-parameter-build.dynamodb", unique_id=id(self))

    def partitions(self):
        """The partition value each Query read."""
        return [params["ExpressionAttributeValues"][":p" if ":p" in params["ExpressionAttributeValues"]
                                                    else ":pending"]["S"]
                for operation, params in self.calls if operation == "Query"]


def store_other_learner(api, items):
    """Another learner's history of ``items`` sessions, as many reviews, their words' memories and
    an aggregate: what a Scan would read through and a purge must leave alone."""
    from chalicelib.storage.dynamo import to_item
    from chalicelib.storage.schema import index_keys, word_history

    owner_ = "ben#0"
    rows = {"study_sessions": [], "word_reviews": [], "memories": [], "aggregates": [
        {"learner": owner_, "item": "totals", "sessions": items}]}
    for n in range(items):
        session = f"00000000-0000-4000-8000-{n:012d}"
        rows["study_sessions"].append({"id": session, "group_id": 1, "study_activity_id": 1,
                                       "created_at": "2026-11-30T10:00:00Z", **index_keys(owner_, 1, 1)})
        rows["word_reviews"].append({"id": f"10000000-0000-4000-8000-{n:012d}", "owner": owner_,
                                     "study_session_id": session, "word_id": 1 + n % 10, "correct": True,
                                     "created_at": "2026-11-30T10:01:00Z",
                                     "owner_word": word_history(owner_, 1 + n % 10),
                                     "reviewed_key": f"2026-11-30T10:01:00Z#{n}"})
    rows["memories"] = [{"scope": owner_, "word_id": word, "owner": owner_} for word in range(1, 11)]
    for logical, table_rows in rows.items():
        for row in table_rows:
            api.dynamodb.put_item(TableName=api.names[logical], Item=to_item(row))
    return {logical: len(table_rows) for logical, table_rows in rows.items()}


def stored_counts(api):
    return {logical: len(scan(api, logical)) for logical in
            ("study_sessions", "word_reviews", "memories", "aggregates")}


@pytest.mark.parametrize("times", [1, 40])
def test_a_purge_reads_only_the_learner_s_own_partitions_whatever_others_store(api, history, times):
    others = store_other_learner(api, 120)
    for _ in range(times):
        reset(api)
    words = {1, 2, 11}  # the history's words

    with PurgeReads(api.dynamodb) as reads:
        deleted = HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge()

    operations = [operation for operation, _ in reads.calls]
    assert deleted > 0 and "Scan" not in operations
    partitions = reads.partitions()
    assert partitions[0] == "pending" and all(p.startswith("implicit#") for p in partitions[1:])
    # per old epoch its memories, sessions and aggregates; per word of epoch 0 its reviews
    assert len(partitions) == 1 + 3 * times + len(words)
    assert "BatchGetItem" not in operations
    assert [s["id"] for s in scan(api, "study_sessions") if s["owner"].startswith("implicit")] == []
    assert stored_counts(api) == {logical: count + (1 if logical == "aggregates" else 0)
                                  for logical, count in others.items()}  # the implicit learner's item
    with PurgeReads(api.dynamodb) as again:
        assert HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge() == 0
    assert [operation for operation, _ in again.calls] == ["Query"]  # nothing waits any more


@pytest.mark.parametrize("missing", ["memories", "aggregates"])
def test_the_purge_finds_a_word_s_reviews_by_its_memory_or_by_its_count(api, history, missing):
    """Either may be missing: a memory item never rebuilt, a record the consumer lost."""
    reset(api)
    for item in scan(api, missing):
        if item.get("owner", item.get("learner")) == "implicit#0" and \
                (item.get("scope") == "implicit#0" or str(item.get("item", "")).startswith("word#")):
            key = {"scope": item["scope"], "word_id": item["word_id"]} if missing == "memories" else \
                {"learner": item["learner"], "item": item["item"]}
            api.dynamodb.delete_item(TableName=api.names[missing], Key=to_item(key))

    HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge()

    assert scan(api, "word_reviews") == [] and scan(api, "study_sessions") == []
    assert [item for item in scan(api, "memories") if item["owner"] == "implicit#0"] == []


class FailingDeletes:
    """A client whose BatchWriteItem fails for the keys of chosen sessions."""

    def __init__(self, client, session_ids):
        self._client, self._failing = client, set(session_ids)
        self.exceptions = client.exceptions

    def __getattr__(self, name):
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems):
        ids = {request["DeleteRequest"]["Key"].get("id", {}).get("S")
               for requests in RequestItems.values() for request in requests}
        if ids & self._failing:
            raise ConnectionError("injected")
        return self._client.batch_write_item(RequestItems=RequestItems)


def test_one_learners_failed_purge_leaves_the_others_purged_and_finishes_next_run(api, history):
    """A second learner's old history, written as the API would have for them."""
    from chalicelib.storage.dynamo import to_item

    theirs = {"id": "7b1c3a52-0d9e-4f36-8a41-2c5e9f0b7d13", "group_id": 1, "study_activity_id": 1,
              "created_at": "2026-11-30T10:00:00Z", "owner": "ben#0", "owner_group": "ben#0#group#1",
              "owner_activity": "ben#0#activity#1"}
    api.dynamodb.put_item(TableName=api.names["study_sessions"], Item=to_item(theirs))
    api.dynamodb.put_item(TableName=api.names["aggregates"], Item=to_item(
        {"learner": "ben", "item": "history", "epoch": 1, "purge_pending": "pending", "reset_at": 0}))
    reset(api)
    failing = FailingDeletes(api.dynamodb, [history[0]["id"]])  # the implicit learner's deletes fail

    HistoryPurger(failing, api.names, grace_seconds=0).purge()

    assert {s["id"] for s in scan(api, "study_sessions")} == {s["id"] for s in history}  # ben's is gone
    pending = {i["learner"] for i in scan(api, "aggregates") if i.get("purge_pending")}
    assert pending == {"implicit"}
    HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge()
    assert scan(api, "study_sessions") == []
    assert {i["learner"] for i in scan(api, "aggregates")} == {"implicit", "ben"}


def test_every_call_the_purge_makes_is_checked_and_granted_to_its_role(api, history):
    reset(api)
    with DynamoDBCalls(api.dynamodb) as calls:
        HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge()

    assert calls.operations and not api.roles.denied  # each was held against the purge's role
    used = {action for function, action, _ in api.roles.used if function == "purge"}
    # all it may do but delete an erased learner's history item (tests/test_roles.py)
    granted = {f"dynamodb:{a}" for grant in FUNCTIONS["purge"].tables.values()
               for a in grant.actions + grant.with_resets + (("Query",) if grant.indexes else ())}
    assert used == granted - {"dynamodb:DeleteItem"}


@pytest.mark.parametrize("stage", ["local", "dev", "prod"])
def test_each_stage_s_purge_grace_exceeds_its_request_budget(stage):
    from chalicelib.config import dynamodb_limits, purge_grace_seconds
    from devtools.stage import stage_environment

    environment = stage_environment(stage)

    assert purge_grace_seconds(environment) > dynamodb_limits(environment).budget_seconds


def test_a_purge_grace_within_the_request_budget_is_refused_naming_both(monkeypatch):
    from devtools import stage

    config = stage.load_config()
    config["stages"]["local"]["environment_variables"]["PURGE_GRACE_SECONDS"] = "3"
    monkeypatch.setattr(stage, "load_config", lambda: config)

    with pytest.raises(stage.StageConfigError) as refused:
        stage.stage_environment("local")

    assert "PURGE_GRACE_SECONDS (3 s) must exceed DYNAMODB_REQUEST_BUDGET (12 s)" in str(refused.value)
