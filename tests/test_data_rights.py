"""Learners own their data: GET /api/me/export answers all of it, page by page, and DELETE
/api/me erases the account at once and every item of theirs with the purge; on moto and
DynamoDB Local, with moto's Cognito."""
import json
import threading
import time

import boto3
import pytest
from moto import mock_aws

import app as app_module
from chalicelib.config import REQUEST_DEADLINE
from chalicelib.core.errors import Unauthorized
from chalicelib.learners.accounts import CognitoAccounts
from chalicelib.storage.dynamo import from_item
from chalicelib.streams.audit import differences, learner_items, rebuild
from chalicelib.streams.purge import HistoryPurger
from devtools.local_auth import create_pool, sign_in
from tests.helpers import DynamoDBCalls, assert_error

ANA, BEN = ("ana@example.com", "Correct-Horse-1"), ("ben@example.com", "Battery-Staple-2")


@pytest.fixture
def pool():
    with mock_aws():
        client = boto3.client("cognito-idp", region_name="us-east-1")
        settings = create_pool(client, [ANA, BEN])
        tokens = {name: sign_in(client, settings["client_id"], name, password)
                  for name, password in (ANA, BEN)}
        yield client, settings, tokens


@pytest.fixture
def learners(api, pool, monkeypatch):
    """Ana and Ben signed in, on a stage with sign-in and resets (as dev)."""
    client, settings, tokens = pool
    monkeypatch.setattr(app_module, "auth_mode", lambda: "cognito")
    api.restart(resets=True, AUTH_MODE="cognito", USER_POOL_ID=settings["user_pool_id"])

    class Learner:
        def __init__(self, name):
            self.name, self.headers = name, {"Authorization": tokens[name]}
            self.sub = next(a["Value"] for a in client.admin_get_user(
                UserPoolId=settings["user_pool_id"], Username=name)["UserAttributes"] if a["Name"] == "sub")

        def post(self, body, path="/api/study-sessions"):
            return api.post(body, headers=self.headers, path=path)

        def get(self, path):
            return api.get(path, headers=self.headers)

        def delete(self):
            return api.http.request("DELETE", "/api/me", headers=self.headers, body=b"")

        def create(self, group_id=1):
            response = self.post({"group_id": group_id, "study_activity_id": 1})
            assert response.status_code == 201, response.body
            return response.json_body["id"]

        def review(self, session_id, word_id, correct=True):
            response = self.post({"word_id": word_id, "correct": correct},
                                 path=f"/api/study-sessions/{session_id}/review")
            assert response.status_code == 201, response.body
            return response.json_body

    return Learner(ANA[0]), Learner(BEN[0])


def purger(api, pool, cognito=None):
    """The purge as the stage builds it: with the pool, whose erased learners it deletes."""
    client, settings, _ = pool
    accounts = CognitoAccounts(lambda: cognito or client, settings["user_pool_id"])
    return HistoryPurger(api.dynamodb, api.names, grace_seconds=0, delete_account=accounts.delete)


def account_exists(pool, username):
    client, settings, _ = pool
    try:
        client.admin_get_user(UserPoolId=settings["user_pool_id"], Username=username)
        return True
    except client.exceptions.UserNotFoundException:
        return False


def write_history(api, learner):
    """Two histories: one session reset away, then two sessions with reviews; counted."""
    old = learner.create(2)
    learner.review(old, 11)
    assert learner.post({}, path="/api/study-sessions/reset").status_code == 200
    sessions = [learner.create(1), learner.create(2)]
    reviews = [learner.review(sessions[0], w, c) for w, c in ((1, True), (2, False), (1, False))]
    reviews.append(learner.review(sessions[1], 12))
    api.count_history()
    return old, sessions, reviews


def export_all(learner, limit=None):
    pages, cursor = [], None
    while True:
        query = "&".join(part for part in (f"limit={limit}" if limit else "",
                                           f"cursor={cursor}" if cursor else "") if part)
        response = learner.get(f"/api/me/export?{query}" if query else "/api/me/export")
        assert response.status_code == 200, response.body
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith('attachment; filename="study-sessions-export-')
        assert response.headers["Cache-Control"] == "no-store"  # no cache on the way keeps it
        pages.append(response.json_body)
        cursor = response.json_body["next_cursor"]
        if cursor is None:
            return pages


def merged(pages):
    return {part: [item for page in pages for item in page[part]]
            for part in ("sessions", "reviews", "memories", "aggregates")}


def test_the_export_is_everything_written_for_the_learner_and_nothing_of_others(api, learners):
    ana, ben = learners
    old, sessions, reviews = write_history(api, ana)
    ben.review(ben.create(1), 3)

    pages = export_all(ana)

    # moto's ID tokens carry no email claim; Cognito's do, where the pool holds the attribute
    assert len(pages) == 1 and pages[0]["learner"] == {"sub": ana.sub, "username": ANA[0], "email": None}
    data = merged(pages)
    listed = {s["id"]: s for s in ana.get("/api/study-sessions").json_body["items"]}
    assert {s["id"]: s for s in data["sessions"] if s["epoch"] == 1} == {
        id_: {"epoch": 1, **session} for id_, session in listed.items()}
    assert [s["id"] for s in data["sessions"] if s["epoch"] == 0] == [old]  # reset, not yet purged
    assert sorted((r["id"], r["epoch"]) for r in data["reviews"] if r["epoch"] == 1) == sorted(
        (r["id"], 1) for r in reviews)
    assert {r["id"]: r for r in data["reviews"] if r["epoch"] == 1} == {
        r["id"]: {"epoch": 1, **r} for r in reviews}  # every field, the memory each answer showed
    memories = {m["word_id"]: m for m in data["memories"] if m["epoch"] == 1}
    assert sorted(memories) == [1, 2, 12] and memories[1]["reviews"] == 2
    stored = from_item(api.dynamodb.get_item(TableName=api.names["memories"], Key={
        "scope": {"S": f"{ana.sub}#1"}, "word_id": {"N": "1"}})["Item"])
    assert {n: memories[1][n] for n in ("state", "stability", "difficulty", "due", "last_review")} == {
        n: stored[n] for n in ("state", "stability", "difficulty", "due", "last_review")}
    totals = next(a for a in data["aggregates"] if a["epoch"] == 1 and a["item"] == "totals")
    assert (totals["sessions"], totals["reviews"], totals["correct"]) == (2, 4, 2)
    assert not any(a["item"].startswith("seen#") for a in data["aggregates"])
    everything = str(data)
    assert ben.sub not in everything


def test_the_export_pages_by_cursor_and_the_pages_add_up_to_one_export(api, learners):
    ana, _ = learners
    write_history(api, ana)

    pages = export_all(ana, limit=2)

    assert all(sum(len(page[p]) for p in ("sessions", "reviews", "memories", "aggregates")) <= 2
               for page in pages)
    assert merged(pages) == merged(export_all(ana))
    assert_error(ana.get("/api/me/export?cursor=not-one"), 400, "validation_error", "cursor is not valid")


def test_no_export_page_comes_back_empty_for_the_consumer_s_markers(api, learners):
    """The consumer's markers ("seen#<eventID>", one a record for 48 h) sort among the
    aggregates: the export reads around them."""
    ana, _ = learners
    write_history(api, ana)
    for n in range(60):
        api.dynamodb.put_item(TableName=api.names["aggregates"], Item={
            "learner": {"S": f"{ana.sub}#1"}, "item": {"S": f"seen#{n:040d}"}, "expires_at": {"N": "1"}})
    whole = merged(export_all(ana))

    pages = export_all(ana, limit=2)

    counts = [sum(len(page[part]) for part in ("sessions", "reviews", "memories", "aggregates"))
              for page in pages]
    assert 0 not in counts[:-1]  # (the last page may close an export that ended on a page's edge)
    assert merged(pages) == whole
    items = [a["item"] for a in whole["aggregates"] if a["epoch"] == 1]
    assert items == sorted(items) and "totals" in items and not any(i.startswith("seen#") for i in items)
    assert any(i.startswith("group#") for i in items) and any(i.startswith("word#") for i in items)


def test_an_erasure_refuses_the_token_at_once_and_the_purge_leaves_nothing_nor_the_account(
        api, learners, pool):
    ana, ben = learners
    write_history(api, ana)
    ben_session = ben.create(1)
    ben.review(ben_session, 4)
    api.count_history()
    ben_items = learner_items(api.dynamodb, api.names, ben.sub)

    erased = ana.delete()

    assert erased.status_code == 202, erased.body
    assert set(erased.json_body) == {"message", "erased_at", "complete_by"}
    assert erased.json_body["complete_by"] > erased.json_body["erased_at"]
    for response in (ana.get("/api/study-sessions"), ana.post({"group_id": 1, "study_activity_id": 1}),
                     ana.get("/dashboard/stats"), ana.get("/api/me/export")):
        assert_error(response, 401, "unauthorized", "This account was deleted")
    again = ana.delete()
    assert (again.status_code, again.json_body) == (202, erased.json_body)  # a resend answers the same
    # the audit judges live histories: the erased ones await the purge, the mark is no aggregate
    assert differences(api.dynamodb, api.names) == [] and rebuild(api.dynamodb, api.names) == 0
    assert_error(ana.get("/api/study-sessions"), 401, "unauthorized", "This account was deleted")

    assert purger(api, pool).purge() > 0

    assert not account_exists(pool, ana.name) and account_exists(pool, ben.name)
    assert learner_items(api.dynamodb, api.names, ana.sub) == []
    assert learner_items(api.dynamodb, api.names, ben.sub) == ben_items  # another's data untouched
    assert ben.get(f"/api/study-sessions/{ben_session}").status_code == 200


def test_erasing_again_writes_nothing_and_answers_the_same_before_and_after_the_purge(api, learners, pool):
    ana, _ = learners
    write_history(api, ana)
    first = ana.delete()

    with DynamoDBCalls(api.dynamodb) as calls:
        again = ana.delete()
    purger(api, pool).purge()
    with DynamoDBCalls(api.dynamodb) as after_purge:
        late = ana.delete()

    assert first.status_code == 202 and (again.status_code, again.json_body) == (202, first.json_body)
    assert (late.status_code, late.json_body) == (202, first.json_body)
    assert calls.operations == after_purge.operations == ["GetItem"]  # the erased mark, read only
    assert learner_items(api.dynamodb, api.names, ana.sub) == []  # no history item made again
    assert purger(api, pool).purge() == 0  # nothing handed over a second time


def test_an_erasure_deletes_the_account_of_its_sub_never_the_one_who_took_the_username_since(
        api, learners, pool):
    client, settings, _ = pool
    ana, _ = learners
    old_token = ana.headers
    assert ana.delete().status_code == 202
    purger(api, pool).purge()
    assert not account_exists(pool, ana.name)
    # a new person signs up with the freed username: a new account, a new sub
    client.admin_create_user(UserPoolId=settings["user_pool_id"], Username=ana.name, MessageAction="SUPPRESS")

    again = api.http.request("DELETE", "/api/me", headers=old_token, body=b"")  # the old, still valid token
    purger(api, pool).purge()

    assert again.status_code == 202
    assert account_exists(pool, ana.name)  # the new person's account stays


class FailingCognito:
    """The pool's client, whose AdminDeleteUser fails ``times`` times."""

    def __init__(self, client, times):
        self._client, self.failures = client, times
        self.exceptions = client.exceptions

    def __getattr__(self, name):
        return getattr(self._client, name)

    def admin_delete_user(self, **params):
        from botocore.exceptions import ClientError

        if self.failures:
            self.failures -= 1
            raise ClientError({"Error": {"Code": "InternalErrorException", "Message": "injected"}},
                              "AdminDeleteUser")
        return self._client.admin_delete_user(**params)


def test_an_account_cognito_failed_to_delete_is_deleted_by_the_next_purge_before_any_data(
        api, learners, pool):
    client, _, _ = pool
    ana, _ = learners
    write_history(api, ana)
    assert ana.delete().status_code == 202
    stored = learner_items(api.dynamodb, api.names, ana.sub)
    failing = FailingCognito(client, times=2)

    for _ in range(2):  # Cognito fails twice: the account stays, and so does every item
        assert purger(api, pool, cognito=failing).purge() == 0
        assert account_exists(pool, ana.name)
        assert learner_items(api.dynamodb, api.names, ana.sub) == stored
    assert purger(api, pool, cognito=failing).purge() > 0

    assert not account_exists(pool, ana.name)
    assert learner_items(api.dynamodb, api.names, ana.sub) == []


@pytest.mark.parametrize("dynamodb", ["dynamodb_local"], indirect=True)
def test_records_of_an_erased_learner_delivered_again_after_the_purge_count_nowhere(
        api, learners, pool, dynamodb_local_server):
    """Erase, purge (the history item goes too), then the streams' records again, as a batch
    retried past the grace or a mapping re-created at TRIM_HORIZON hands them: nothing names the
    learner, and `make audit LEARNER=` says so."""
    from chalicelib.streams.aggregates import AggregateWriter, process
    from devtools.audit import erased as audit_learner
    from devtools.dynamodb_local import LOCAL_CREDENTIALS
    from tests.test_aggregates import stream_records

    ana, ben = learners
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb_local_server.endpoint,  # as api.dynamodb
                           region_name=LOCAL_CREDENTIALS["AWS_DEFAULT_REGION"],
                           aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    api.restart(resets=False, AUTH_MODE="cognito", USER_POOL_ID=pool[1]["user_pool_id"])  # as on prod
    for session, word in ((ana.create(1), 3), (ana.create(2), 12)):
        ana.review(session, word)
    ben.review(ben.create(1), 4)
    records = stream_records(api, streams)
    writer = AggregateWriter(api.dynamodb, api.names)
    assert process(records, api.names, writer) == {"batchItemFailures": []}
    ben_items = learner_items(api.dynamodb, api.names, ben.sub)

    assert ana.delete().status_code == 202
    purger(api, pool).purge()
    assert learner_items(api.dynamodb, api.names, ana.sub) == []

    assert process(records, api.names, writer) == {"batchItemFailures": []}
    assert process(list(reversed(records)), api.names, writer) == {"batchItemFailures": []}

    assert learner_items(api.dynamodb, api.names, ana.sub) == []
    assert audit_learner(api.dynamodb, api.names, ana.sub) == 0
    assert learner_items(api.dynamodb, api.names, ben.sub) == ben_items  # counted once, still


def test_the_erased_mark_outlives_every_token_and_every_record_that_can_still_be_delivered():
    from chalicelib.config import dynamodb_limits
    from chalicelib.storage.schema import ERASED_MARK_SECONDS
    from devtools.consumer_template import MAX_RECORD_AGE_SECONDS
    from devtools.stage import stage_environment

    longest_budget = max(dynamodb_limits(stage_environment(stage)).budget_seconds
                         for stage in ("local", "dev", "prod"))
    assert ERASED_MARK_SECONDS > MAX_RECORD_AGE_SECONDS + longest_budget
    assert ERASED_MARK_SECONDS > 24 * 3600  # Cognito's longest ID token


def test_an_erasure_interrupted_half_way_finishes_on_the_next_run(api, learners):
    ana, ben = learners
    write_history(api, ana)
    assert ana.delete().status_code == 202

    class FailingDeletes:
        """The DynamoDB client, whose BatchWriteItem fails once it has deleted some items."""

        def __init__(self, client):
            self._client, self.calls = client, 0

        def __getattr__(self, name):
            return getattr(self._client, name)

        def batch_write_item(self, **params):
            self.calls += 1
            if self.calls == 2:
                raise RuntimeError("injected: the purge stopped half-way")
            return self._client.batch_write_item(**params)

    HistoryPurger(FailingDeletes(api.dynamodb), api.names, grace_seconds=0).purge()
    assert learner_items(api.dynamodb, api.names, ana.sub) != []  # some deleted, some left

    HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge()

    assert learner_items(api.dynamodb, api.names, ana.sub) == []


# moto's transactions are not thread-safe: one rolled back restores its tables over other threads' writes
@pytest.mark.parametrize("dynamodb", ["dynamodb_local"], indirect=True)
def test_writes_racing_an_erasure_are_refused_after_it_and_none_is_left_after_the_purge(api, learners):
    ana, ben = learners
    services = api.services()
    first = ana.create(1)
    refused, stop = [], threading.Event()

    def write():
        while not stop.is_set():
            REQUEST_DEADLINE.start()  # each loop is a request
            try:
                session = services.sessions.create(ana.sub, {"group_id": 1, "study_activity_id": 1}, None)[0]
                services.reviews.review(ana.sub, session["id"], None, {"word_id": 2, "correct": True}, None)
            except Unauthorized:
                refused.append(True)
                return
            except Exception as error:  # noqa: BLE001 - reported below
                refused.append(error)
                return

    writers = [threading.Thread(target=write) for _ in range(3)]
    for writer in writers:
        writer.start()
    time.sleep(0.3)
    assert ana.delete().status_code == 202
    for writer in writers:
        writer.join(timeout=30)
    stop.set()
    ben_session = ben.create(2)

    assert refused == [True] * 3  # each writer was refused once the erasure had answered
    HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge()
    assert learner_items(api.dynamodb, api.names, ana.sub) == []
    assert ben.get(f"/api/study-sessions/{ben_session}").status_code == 200
    assert ana.get(f"/api/study-sessions/{first}").status_code == 401


def test_without_sign_in_there_is_no_account_to_erase_and_the_export_is_the_implicit_learner_s(api):
    session = api.post({"group_id": 1, "study_activity_id": 1}).json_body

    erased = api.http.request("DELETE", "/api/me", headers={}, body=b"")
    exported = api.get("/api/me/export").json_body

    assert_error(erased, 403, "forbidden", "no sign-in")
    assert exported["learner"] == {"sub": "implicit", "username": None, "email": None}
    assert [s["id"] for s in exported["sessions"]] == [session["id"]]
    assert api.get("/api/study-sessions").json_body["items"][0]["id"] == session["id"]


@pytest.mark.server
def test_auth_cognito_make_run_exports_and_erases_a_learner_of_its_local_pool(signed_in_server):
    import uuid

    import requests

    from devtools.local_auth import cognito_client

    server = signed_in_server
    settings, pool = server.settings, cognito_client(server.settings["endpoint"])
    username = f"erased-{uuid.uuid4().hex[:8]}"  # a learner of its own: the server is shared
    pool.admin_create_user(UserPoolId=settings["user_pool_id"], Username=username, MessageAction="SUPPRESS")
    pool.admin_set_user_password(UserPoolId=settings["user_pool_id"], Username=username,
                                 Password="Fresh-local-2026!", Permanent=True)
    headers = {"Authorization": sign_in(pool, settings["client_id"], username, "Fresh-local-2026!")}
    url = server.base_url
    created = requests.post(f"{url}/api/study-sessions", json={"group_id": 1, "study_activity_id": 1},
                            headers=headers, timeout=30)
    assert created.status_code == 201

    exported = requests.get(f"{url}/api/me/export", headers=headers, timeout=30)
    erased = requests.delete(f"{url}/api/me", headers=headers, timeout=30)
    after = requests.get(f"{url}/api/study-sessions", headers=headers, timeout=30)

    assert exported.status_code == 200 and exported.headers["Content-Disposition"].startswith("attachment")
    assert [s["id"] for s in exported.json()["sessions"]] == [created.json()["id"]]
    assert exported.json()["learner"]["username"] == username
    assert erased.status_code == 202, erased.text
    assert erased.headers["Access-Control-Allow-Origin"] == "*"
    assert after.status_code == 401 and "deleted" in after.json()["error"]
    deadline = time.monotonic() + 60  # the poller's purge, every 5 s, deletes the account first
    while True:
        try:
            pool.admin_get_user(UserPoolId=settings["user_pool_id"], Username=username)
        except pool.exceptions.UserNotFoundException:
            break
        assert time.monotonic() < deadline, "the purge did not delete the erased learner's account"
        time.sleep(0.5)


def test_an_account_the_purge_cannot_delete_stays_refused_however_long_that_lasts(api, learners, pool):
    from chalicelib.storage.dynamo import to_item
    from chalicelib.storage.schema import ERASED_MARK_SECONDS, erased_mark

    client, settings, _ = pool
    ana, _ = learners
    write_history(api, ana)
    assert ana.delete().status_code == 202

    def mark():
        return from_item(api.dynamodb.get_item(TableName=api.names["aggregates"], ConsistentRead=True,
                                               Key=to_item(erased_mark(ana.sub)))["Item"])

    assert purger(api, pool, cognito=FailingCognito(client, times=10)).purge() == 0
    assert "expires_at" not in mark()  # no expiry while the account is there: its tokens stay refused
    ana.headers = {"Authorization": sign_in(client, settings["client_id"], *ANA)}  # a new sign-in
    assert_error(ana.post({"group_id": 1, "study_activity_id": 1}), 401, "unauthorized",
                 "This account was deleted")

    started = int(time.time())
    assert purger(api, pool).purge() > 0

    assert started + ERASED_MARK_SECONDS <= mark()["expires_at"] <= int(time.time()) + ERASED_MARK_SECONDS
    assert learner_items(api.dynamodb, api.names, ana.sub) == [] and not account_exists(pool, ANA[0])


def test_the_scheduler_is_exported_and_gone_with_an_erasure_and_another_s_stays(api, learners, pool):
    """The learner's parameters and evaluations are their data: their scheduler item (word_id 0
    of each epoch's memories partition) is in the export, and the purge of an erasure deletes it."""
    ana, ben = learners

    class Queue:
        def send(self, owner, version):
            pass  # the recompute is tested in tests/test_scheduler.py

    app_module._services = app_module._services._replace(recompute_queue=Queue())
    app_module._scheduler = None
    session = ana.create(1)
    ana.review(session, 3)
    for learner, retention in ((ana, 0.8), (ben, 0.95)):
        response = api.http.put("/api/me/scheduler", body=json.dumps({"desired_retention": retention}),
                                headers={**learner.headers, "Content-Type": "application/json"})
        assert response.status_code == 200, response.body
    ben_items = learner_items(api.dynamodb, api.names, ben.sub)

    pages = export_all(ana, limit=1)
    exported = merged(pages)

    assert [part["scheduler"] for part in pages if part["scheduler"]] == [[{
        "epoch": 0, "desired_retention": 0.8, "version": 1, "source": "default",
        "parameters": ana.get("/api/me/scheduler").json_body["parameters"]}]]
    assert [memory["word_id"] for memory in exported["memories"]] == [3]  # the scheduler is no word
    assert any(item["word_id"] == 0 for table, item in learner_items(api.dynamodb, api.names, ana.sub)
               if table == "memories")

    assert ana.delete().status_code == 202
    assert purger(api, pool).purge() > 0

    assert learner_items(api.dynamodb, api.names, ana.sub) == []
    assert learner_items(api.dynamodb, api.names, ben.sub) == ben_items
    assert ben.get("/api/me/scheduler").json_body["desired_retention"] == 0.95


def test_a_fit_pending_or_handed_again_after_an_erasure_writes_and_sends_nothing(api, learners, tmp_path):
    """The purge waits minutes before it deletes an erased history; a fit queued before the
    erasure, and a fit message handed again whose recompute is pending, leave it as it is."""
    from chalicelib.storage.dynamo import to_item
    from chalicelib.storage.queues import DirectoryQueue
    from chalicelib.storage.schema import SCHEDULER_WORD_ID, TOTALS
    from chalicelib.streams.fitting import FittingWorker
    from tests.test_fit_requests import NOW, Answers, Clock, Context, Recomputes

    ana, ben = learners
    queue, recomputes = DirectoryQueue(tmp_path / "fit"), Recomputes()
    app_module._services = app_module._services._replace(fit_queue=queue, recompute_queue=recomputes)
    app_module._scheduler = None
    services = app_module.services()
    app_module._fitting_worker = FittingWorker(services.store, Answers(), recomputes, Clock(NOW),
                                               services.histories.is_current)
    for learner in (ana, ben):
        learner.review(learner.create(1), 1)
        api.dynamodb.put_item(TableName=api.names["aggregates"], Item=to_item(
            {"learner": f"{learner.sub}#0", "item": TOTALS, "reviews": 1200}))
        assert learner.post({}, path="/api/me/scheduler/fit").status_code == 202
    messages = {json.loads(body)["owner"]: json.loads(body) for _, body in queue.messages()}

    def drain():
        return queue.drain(lambda event: app_module.fit_learners(event, Context()))

    def scheduler(learner):
        found = api.dynamodb.get_item(TableName=api.names["memories"], ConsistentRead=True, Key={
            "scope": {"S": f"{learner.sub}#0"}, "word_id": {"N": str(SCHEDULER_WORD_ID)}})
        return from_item(found.get("Item", {}))

    assert ana.delete().status_code == 202  # while her request is pending
    assert drain() == 2
    assert "last_fit" not in scheduler(ana) and recomputes.sent == [(f"{ben.sub}#0", 1)]
    assert len(app_module._fitting_worker._fitter.asked) == 1  # Ben's only

    assert ben.delete().status_code == 202  # his recompute still pending; his message handed again
    queue.send(messages[f"{ben.sub}#0"])
    assert drain() == 1
    assert recomputes.sent == [(f"{ben.sub}#0", 1)]  # not sent again for an erased history
    assert scheduler(ben)["recompute_version"] == 1
