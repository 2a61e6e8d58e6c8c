"""The aggregates consumer on DynamoDB Local's real streams: each record counted exactly once
whatever Lambda redelivers, in whatever order, and always equal to a recount of the stored
sessions and reviews; the sessions' figures (review_items_count, word counts, end_time) too."""
import json
import random

import pytest

from chalicelib.storage.access import FUNCTIONS
from chalicelib.streams.aggregates import AggregateWriter, process
from chalicelib.streams.audit import (
    differences,
    expected,
    expected_session_figures,
    rebuild,
    session_figures,
    stored,
)
from devtools import dynamodb_local
from devtools.stream_poller import StreamPoller, local_clients, stream_filters
from tests.helpers import DynamoDBCalls, scan

REVIEWS = [(1, True)] * 4 + [(1, False)] + [(2, True)] * 4 + [(3, False)]


@pytest.fixture
def dynamodb(dynamodb_local_server, monkeypatch):
    """Streams are checked on DynamoDB Local only: moto's differ where it matters here."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local_server.endpoint)
    yield dynamodb_local.client(dynamodb_local_server.endpoint)


def stored_aggregates(api):
    """The aggregates, and per session (key ("session", id)) the figures the consumer keeps on it."""
    sessions = scan(api, "study_sessions")
    return {**stored(api.dynamodb, api.names),
            **{("session", session["id"]): session_figures(session) for session in sessions}}


def expected_aggregates(api):
    figures = expected_session_figures(scan(api, "study_sessions"), scan(api, "word_reviews"))
    return {**expected(api.dynamodb, api.names), **{("session", id_): want for id_, want in figures.items()}}


def forget_session_figures(api):
    """The sessions as the reviews' own writes leave them: their figures are the consumer's to
    write (the test client's settling wrote them already)."""
    for session in scan(api, "study_sessions"):
        names = {f"#f{n}": name for n, name in enumerate(session_figures(session))}
        if names:
            api.dynamodb.update_item(
                TableName=api.names["study_sessions"], Key={"id": {"S": session["id"]}},
                UpdateExpression="REMOVE " + ", ".join(names), ExpressionAttributeNames=names)


def stream_records(api, streams=None, tables=("study_sessions", "word_reviews")):
    """Every record the tables' streams hold that their mappings hand over, shaped as Lambda hands
    them; ``streams``: a DynamoDB Local streams client of api's credentials (else the
    environment's)."""
    batches = []
    dynamodb, streams = (api.dynamodb, streams) if streams else local_clients()
    poller = StreamPoller(dynamodb, streams, [api.names[table] for table in tables],
                          lambda event: batches.append(event["Records"]) or {},
                          filters=stream_filters(api.names))
    while poller.poll_once():
        pass
    return [record for batch in batches for record in batch]


@pytest.fixture
def history(api):
    """Four sessions over three days and two groups, and ten reviews of three words."""
    sessions = [api.post({"group_id": group, "study_activity_id": 1, "created_at": at}).json_body
                for group, at in ((1, "2026-11-20T09:00:00Z"), (1, "2026-11-22T23:59:59Z"),
                                  (2, "2026-11-22T00:00:00Z"), (1, "2026-11-21T12:00:00Z"))]
    for word, correct in REVIEWS:
        response = api.post({"word_id": word, "correct": correct},
                            path=f"/api/study-sessions/{sessions[0]['id']}/review")
        assert response.status_code == 201
    forget_session_figures(api)
    return stream_records(api)


@pytest.fixture
def writer(api):
    return AggregateWriter(api.dynamodb, api.names)


def test_every_figure_equals_a_recount_of_the_stored_items(api, history, writer):
    assert process(history, api.names, writer) == {"batchItemFailures": []}

    stored = stored_aggregates(api)
    assert stored == expected_aggregates(api)
    assert stored[("implicit#0", "totals")] == {"sessions": 4, "reviews": 10, "correct": 8,
                                              "words_studied": 3, "mastered": 1}
    assert stored[("implicit#0", "group#1")] == {"sessions": 3, "last_day": "2026-11-22"}
    assert stored[("implicit#0", "days#2026")] == {"days": {"2026-11-20", "2026-11-21", "2026-11-22"}}
    assert stored[("implicit#0", "word#2")] == {"correct": 4, "wrong": 0}
    session = [key for key in stored if key[0] == "session" and stored[key]]
    assert [stored[key] for key in session] == [{
        "review_items_count": 10, "correct_1": 4, "wrong_1": 1, "correct_2": 4, "wrong_3": 1,
        "end_time": max(review["created_at"] for review in scan(api, "word_reviews"))}]


def test_the_same_batch_twice_counts_once(api, history, writer):
    process(history, api.names, writer)
    once = stored_aggregates(api)

    assert process(history, api.names, writer) == {"batchItemFailures": []}

    assert stored_aggregates(api) == once == expected_aggregates(api)


class FailingRecords:
    """A writer that fails every chunk holding one of the chosen records until ``mended``."""

    def __init__(self, writer, event_ids):
        self._writer, self._failing = writer, set(event_ids)

    def mended(self):
        self._failing = set()

    def current(self, records):
        return self._writer.current(records)

    def apply(self, chunk):
        if self._failing & {c.record["eventID"] for c in chunk}:
            raise ConnectionError("injected")
        self._writer.apply(chunk)


def test_a_batch_that_fails_half_way_is_exact_once_retried_from_the_failure(api, history, writer):
    middle = history[len(history) // 2]
    failing = FailingRecords(writer, [middle["eventID"]])

    first = process(history, api.names, failing)
    assert first == {"batchItemFailures": [{"itemIdentifier": middle["dynamodb"]["SequenceNumber"]}]}
    failing.mended()
    retried = process(history[len(history) // 2:], api.names, failing)  # Lambda: from the failure on

    assert retried == {"batchItemFailures": []}
    assert stored_aggregates(api) == expected_aggregates(api)


def test_a_bisected_batch_retried_in_halves_and_whole_is_exact(api, history, writer):
    half = len(history) // 2
    for batch in (history[:half], history[half:], history, history[half:]):
        process(batch, api.names, writer)

    assert stored_aggregates(api) == expected_aggregates(api)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_records_in_any_order_across_items_give_the_same_figures(api, history, writer, seed):
    shuffled = list(history)
    random.Random(seed).shuffle(shuffled)

    process(shuffled, api.names, writer)

    assert stored_aggregates(api) == expected_aggregates(api)


@pytest.mark.parametrize("reviews_first", [True, False])
def test_a_review_and_its_session_count_the_same_in_either_order(api, history, writer, reviews_first):
    reviews = [r for r in history if r["eventSourceARN"].split("/")[1] == api.names["word_reviews"]]
    sessions = [r for r in history if r not in reviews]

    for batch in ((reviews, sessions) if reviews_first else (sessions, reviews)):
        process(batch, api.names, writer)

    assert stored_aggregates(api) == expected_aggregates(api)


@pytest.mark.parametrize("answers, mastered", [
    ([True] * 4, 0),                      # 4 reviews: too few
    ([True] * 4 + [False], 1),            # 5 reviews, 80 %
    ([True] * 3 + [False] * 2, 0),        # 5 reviews, 60 %
    ([True] * 4 + [False] * 2, 0),        # was mastered at 5, 66 % at 6: no longer
    ([True] * 8 + [False] * 2, 1),        # 10 reviews, 80 %
])
def test_mastered_words_at_the_5_review_and_80_percent_edges(api, writer, answers, mastered):
    session = api.post({"group_id": 1, "study_activity_id": 1}).json_body
    for correct in answers:
        api.post({"word_id": 4, "correct": correct}, path=f"/api/study-sessions/{session['id']}/review")

    process(stream_records(api), api.names, writer)

    totals = stored_aggregates(api)[("implicit#0", "totals")]
    assert (totals["mastered"], totals["words_studied"], totals["reviews"]) == (mastered, 1, len(answers))


def test_every_call_the_consumer_makes_is_checked_and_granted_to_its_role(api, history, writer):
    from chalicelib.storage.review_repository import ReviewRepository

    session = api.post({"group_id": 1, "study_activity_id": 1}).json_body
    with pytest.MonkeyPatch.context() as patch:  # a round cut short after its commit
        patch.setattr(ReviewRepository, "_store_reviews", lambda *_: 1 / 0)
        api.post({"reviews": [{"word_id": 1, "is_correct": True}]},
                 path=f"/study_sessions/{session['id']}/review")
    records = stream_records(api, tables=("study_sessions", "word_reviews", "memories"))
    with DynamoDBCalls(api.dynamodb) as calls:
        process(records, api.names, writer)
        process(records, api.names, writer)  # the duplicates' cancelled transactions too

    assert calls.operations and not api.roles.denied  # each was held against the consumer's role
    used = {(action, resource) for function, action, resource in api.roles.used if function == "aggregates"}
    assert used == {(f"dynamodb:{action}", api.roles.binding.table_arn(table))
                    for table, access in FUNCTIONS["aggregates"].tables.items() for action in access.actions}


def test_the_audit_finds_a_broken_aggregate_and_the_rebuild_mends_it(api, history, writer):
    process(history, api.names, writer)
    table = api.names["aggregates"]
    api.dynamodb.update_item(TableName=table, Key={"learner": {"S": "implicit#0"}, "item": {"S": "totals"}},
                             UpdateExpression="SET sessions = :n",
                             ExpressionAttributeValues={":n": {"N": "99"}})
    api.dynamodb.delete_item(TableName=table, Key={"learner": {"S": "implicit#0"}, "item": {"S": "word#3"}})
    api.dynamodb.put_item(TableName=table, Item={"learner": {"S": "implicit#0"}, "item": {"S": "group#7"},
                                                 "sessions": {"N": "1"}})

    found = differences(api.dynamodb, api.names)
    written = rebuild(api.dynamodb, api.names)

    assert [(key, want.get("sessions"), have.get("sessions")) for key, want, have in found
            if key[1] != "word#3"] == [(("implicit#0", "group#7"), None, 1),
                                       (("implicit#0", "totals"), 4, 99)]
    assert [(want, have) for key, want, have in found if key[1] == "word#3"] == [
        ({"correct": 0, "wrong": 1}, {})]
    assert written == 3
    assert differences(api.dynamodb, api.names) == []
    assert stored_aggregates(api) == expected_aggregates(api)


def test_a_sessions_table_from_before_the_streams_gets_its_stream_and_the_audit_restores_the_rest(
        api, writer):
    from devtools.provision import provision

    old = api.post({"group_id": 1, "study_activity_id": 1}).json_body  # in the stream already: drop it
    api.dynamodb.update_table(TableName=api.names["study_sessions"],
                              StreamSpecification={"StreamEnabled": False})

    provision(api.dynamodb, api.names)  # what the next `make run` does
    new = api.post({"group_id": 1, "study_activity_id": 1}).json_body

    spec = api.dynamodb.describe_table(TableName=api.names["study_sessions"])["Table"]["StreamSpecification"]
    assert spec == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    records = [r for r in stream_records(api) if r["dynamodb"]["Keys"]["id"]["S"] == new["id"]]
    assert len(records) == 1 and old["id"] != new["id"]
    rebuild(api.dynamodb, api.names)
    assert stored_aggregates(api)[("implicit#0", "totals")]["sessions"] == 2


def test_keys_dynamodb_leaves_unprocessed_are_asked_again_with_backoff_then_the_chunk_fails(api, history):
    class Unprocessed:
        """A client whose BatchGetItem never processes a key (DynamoDB short of capacity)."""
        calls = 0

        def batch_get_item(self, RequestItems):
            self.calls += 1
            return {"Responses": {}, "UnprocessedKeys": RequestItems}

    client, pauses = Unprocessed(), []
    writer = AggregateWriter(client, api.names, sleep=pauses.append)
    session = [r for r in history if api.names["study_sessions"] in r["eventSourceARN"]][:1]

    assert process(session, api.names, writer) == {
        "batchItemFailures": [{"itemIdentifier": session[0]["dynamodb"]["SequenceNumber"]}]}
    assert (client.calls, pauses) == (4, [0.05, 0.1, 0.2, 0.4])  # asked 4 times, then the record fails


def test_records_of_a_reset_history_count_nowhere_even_after_its_purge(api, history, writer):
    """Redelivered after the purge deleted the old epoch's markers, the old records write nothing;
    a record of the current history still counts exactly once."""
    from chalicelib.streams.purge import HistoryPurger

    api.restart(resets=True)
    process(history, api.names, writer)
    assert api.http.post("/api/study-sessions/reset", headers={"Content-Type": "application/json"},
                         body="").status_code == 200
    HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge()
    assert [key for key in stored_aggregates(api) if key[0] == "implicit#0"] == []
    new = api.post({"group_id": 1, "study_activity_id": 1}).json_body
    records = stream_records(api)
    current = [r for r in records if r["dynamodb"]["Keys"]["id"]["S"] == new["id"]]

    with DynamoDBCalls(api.dynamodb) as calls:
        assert process(history, api.names, writer) == {"batchItemFailures": []}  # the old epoch again
    assert calls.operations == ["BatchGetItem"]  # the learner's epoch, once for the batch
    process(history + current, api.names, writer)
    process(current, api.names, writer)

    aggregates = stored_aggregates(api)
    assert [key for key in aggregates if key[0] == "implicit#0"] == []
    assert aggregates[("implicit#1", "totals")]["sessions"] == 1
    assert differences(api.dynamodb, api.names) == []


def test_a_poller_restarted_with_its_positions_hands_over_only_newer_records(api, tmp_path):
    from devtools.stream_poller import Positions

    positions = tmp_path / "stream-positions.json"
    tables = [api.names["study_sessions"], api.names["word_reviews"]]
    first = [api.post({"group_id": 1, "study_activity_id": 1}).json_body for _ in range(2)]
    handed = []

    def poller():
        return StreamPoller(*local_clients(), tables, lambda event: handed.extend(event["Records"]) or {},
                            Positions(positions))

    before = poller()
    while before.poll_once():
        pass
    assert sorted(r["dynamodb"]["Keys"]["id"]["S"] for r in handed) == sorted(s["id"] for s in first)
    handed.clear()
    later = api.post({"group_id": 1, "study_activity_id": 1}).json_body

    restarted = poller()
    while restarted.poll_once():
        pass

    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in handed] == [later["id"]]


def test_a_position_the_stream_does_not_know_starts_the_shard_from_its_beginning(api, tmp_path):
    from devtools.stream_poller import Positions

    session = api.post({"group_id": 1, "study_activity_id": 1}).json_body
    dynamodb, streams = local_clients()
    tables = [api.names["study_sessions"], api.names["word_reviews"]]
    positions = tmp_path / "stream-positions.json"
    arn = dynamodb.describe_table(TableName=tables[0])["Table"]["LatestStreamArn"]
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    positions.write_text(json.dumps({shard["ShardId"]: "99999999999999999999999"}))
    handed = []

    poller = StreamPoller(dynamodb, streams, tables, lambda event: handed.extend(event["Records"]) or {},
                          Positions(positions))
    while poller.poll_once():
        pass

    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in handed] == [session["id"]]


def test_resets_racing_reviews_audit_clean_at_once_and_a_lost_record_still_fails_the_audit(
        api, writer, capsys):
    """The consumer rightly drops late records of a replaced epoch; the audit run before the purge
    reports those epochs apart, never as differences (exit 0), and still finds a live record the
    consumer lost (exit 1)."""
    import threading
    import time

    from chalicelib.config import REQUEST_DEADLINE
    from chalicelib.core.errors import NotFound, Unavailable
    from devtools.audit import audit

    api.restart(resets=True)
    services = api.services()
    dynamodb, streams = local_clients()
    poller = StreamPoller(dynamodb, streams, [api.names["study_sessions"], api.names["word_reviews"]],
                          lambda event: process(event["Records"], api.names, writer))

    def create():
        REQUEST_DEADLINE.start()
        return services.sessions.create("implicit", {"group_id": 1, "study_activity_id": 1}, None)[0]["id"]

    # for certain once: a review's record delivered after its epoch was replaced
    session = create()
    REQUEST_DEADLINE.start()
    services.reviews.review("implicit", session, None, {"word_id": 1, "correct": True}, None)
    services.histories.reset("implicit")
    while poller.poll_once():
        pass
    stop, failures = threading.Event(), []

    def review(first_word):
        session, n = None, 0
        while not stop.is_set():
            try:
                session = session or create()
                REQUEST_DEADLINE.start()
                services.reviews.review("implicit", session, None,
                                        {"word_id": first_word + n % 3, "correct": n % 4 != 0}, None)
                n += 1
            except NotFound:
                session = None  # reset meanwhile: its session is of the old history
            except Unavailable:
                pass  # DynamoDB Local slow on a loaded machine: a client sends it again
            except Exception as error:  # noqa: BLE001 - reported below
                failures.append(error)
                return

    def consume():
        while not stop.is_set():
            poller.poll_once()
            time.sleep(0.02)

    threads = [threading.Thread(target=review, args=(word,)) for word in (1, 4)] + [
        threading.Thread(target=consume)]
    for thread in threads:
        thread.start()
    for _ in range(5):
        time.sleep(0.4)
        services.histories.reset("implicit")
    time.sleep(0.4)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    while poller.poll_once():  # the consumer catches up, and the audit runs at once: no purge
        pass
    capsys.readouterr()

    clean = audit(api.dynamodb, api.names)
    said = capsys.readouterr().out
    create()  # a live session whose record the consumer never gets: lost
    lost = audit(api.dynamodb, api.names)
    reported = capsys.readouterr().out

    assert failures == []
    assert clean == 0, said
    assert "belong to histories a reset or an erasure replaced, awaiting the purge" in said
    assert said.splitlines()[-1].startswith("All ")
    assert lost == 1, reported
    found = {line["item"]: line for line in map(json.loads, filter(lambda text: text.startswith("{"),
                                                                       reported.splitlines()))}
    assert {line["learner"] for line in found.values()} == {"implicit#6"}  # the live history only
    assert found["totals"]["recounted"]["sessions"] == found["totals"]["stored"].get("sessions", 0) + 1


def test_reviews_missing_from_the_index_by_word_fail_the_audit_until_the_rebuild_indexes_them(api, capsys):
    """Stored before scheduling: neither the export nor the purge finds them."""
    from chalicelib.storage.dynamo import to_item
    from devtools.audit import audit

    session = api.post({"group_id": 1, "study_activity_id": 1}).json_body
    api.dynamodb.put_item(TableName=api.names["word_reviews"], Item=to_item({
        "id": "0b0c0d0e-0000-4000-8000-000000000001", "owner": "implicit#0",
        "study_session_id": session["id"], "word_id": 2, "correct": True,
        "created_at": "2026-11-20T09:00:00Z"}))
    rebuild(api.dynamodb, api.names)  # the counts, as the consumer would have them

    before = audit(api.dynamodb, api.names)
    said = capsys.readouterr().out
    rebuilt = audit(api.dynamodb, api.names, rebuild_differences=True)
    after = audit(api.dynamodb, api.names)

    assert before == 1 and "1 reviews are missing from the index by word" in said
    assert rebuilt == 0 and after == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("All ")


def test_a_reset_while_the_audit_scans_is_no_difference(api, writer, monkeypatch):
    from chalicelib.streams import audit

    api.restart(resets=True)
    session = api.post({"group_id": 1, "study_activity_id": 1}).json_body["id"]
    api.post({"word_id": 1, "correct": True}, path=f"/api/study-sessions/{session}/review")
    process(stream_records(api), api.names, writer)
    api.post({"word_id": 2, "correct": True}, path=f"/api/study-sessions/{session}/review")  # not yet counted
    scan_stored = audit.stored

    def reset_then_scan(client, tables):  # the reset lands between the audit's two scans
        assert api.post({}, path="/api/study-sessions/reset").status_code == 200
        process(stream_records(api), api.names, writer)  # the replaced epoch's late record: dropped
        return scan_stored(client, tables)

    monkeypatch.setattr(audit, "stored", reset_then_scan)

    assert audit.differences(api.dynamodb, api.names) == []


def test_a_review_whose_session_is_gone_is_counted_without_bringing_the_session_back(api, history, writer):
    reviewed = {record["dynamodb"]["NewImage"]["study_session_id"]["S"] for record in history
                if "study_session_id" in record["dynamodb"]["NewImage"]}
    for id_ in reviewed:  # as the purge of a replaced history deletes it
        api.dynamodb.delete_item(TableName=api.names["study_sessions"], Key={"id": {"S": id_}})

    assert process(history, api.names, writer) == {"batchItemFailures": []}

    assert reviewed and not reviewed & {session["id"] for session in scan(api, "study_sessions")}
    assert stored_aggregates(api)[("implicit#0", "totals")]["reviews"] == len(REVIEWS)
