"""What a real deploy would refuse: every call each function makes, on every stage, is granted by
its own role in the packaged template (tests/roles.py checks each one as AWS would), and every
DynamoDB and Cognito grant of those roles is needed by some call (least privilege). On moto and
DynamoDB Local, with moto's Cognito."""
import json

import pytest

import app as app_module
from chalicelib.learners.accounts import CognitoAccounts
from chalicelib.storage.dynamo import from_item
from chalicelib.storage.review_repository import ReviewRepository
from chalicelib.streams.aggregates import AggregateWriter, process
from chalicelib.streams.purge import HistoryPurger
from chalicelib.streams.recompute import handle
from tests.conftest import packaged, packaged_roles_template
from tests.test_data_rights import ANA, BEN, pool  # noqa: F401 - pool is a fixture

GROUP_PAGES = ["/groups/1/study_sessions?sort_by=start_time&order=desc",
               "/groups/1/study_sessions?sort_by=review_items_count"]
READS = [
    "/api/study-sessions", "/api/study-sessions?page=1&per_page=2", "/api/study-sessions?limit=1",
    "/api/groups/1/study-sessions", "/api/groups/1/study-sessions?page=1",
    "/api/study-activities/1/sessions", "/api/study-activities/1/study-sessions",
    "/api/groups/1/due-words?limit=2", "/dashboard/stats", "/dashboard/recent-session",
    "/words", "/words?sort_by=correct_count&order=desc", "/words/1", "/groups", "/groups/1",
    "/groups/1/words", "/groups/1/words?sort_by=correct_count", *GROUP_PAGES,
    "/api/groups", "/api/groups/1", "/api/groups/1/words", "/api/study-activities",
    "/api/study-activities/1", "/api/study-activities/1/launch", "/api/me/scheduler",
]


def stream_records(api):
    """The INSERT records the tables' streams would carry for every stored session and review, and
    for every memory item a round committed, as Lambda hands them to the consumer (moto's streams
    differ from DynamoDB's: made from the items)."""
    records = []
    for logical in ("study_sessions", "word_reviews", "memories"):
        pages = api.dynamodb.get_paginator("scan").paginate(TableName=api.names[logical], ConsistentRead=True)
        for item in (item for page in pages for item in page["Items"]):
            if logical == "memories" and "round_committed" not in item:
                continue
            key = from_item(item).get("id") or f"{from_item(item)['scope']}-{from_item(item)['word_id']}"
            records.append({
                "eventID": f"{logical}-{key}", "eventName": "INSERT",
                "eventSourceARN": f"{api.roles.binding.table_arn(logical)}/stream/2026-12-07T00:00:00.000",
                "dynamodb": {"NewImage": item, "SequenceNumber": str(len(records) + 1)}})
    return records


class Learner:
    def __init__(self, api, token):
        self.api, self.headers = api, {"Authorization": token} if token else {}

    def post(self, body, path="/api/study-sessions", key=None):
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        response = self.api.post(body, headers=headers, path=path)
        assert response.status_code in (200, 201, 202), (path, response.status_code, response.body)
        return response.json_body

    def put(self, body, path):
        """A change of the learner's scheduler; its recompute's messages queued, run by consume()."""
        import tempfile

        from chalicelib.storage.queues import DirectoryQueue, RecomputeMessages

        if not hasattr(self.api, "recomputes"):
            self.api.recomputes = DirectoryQueue(tempfile.mkdtemp())
        app_module._services = app_module._services._replace(
            recompute_queue=RecomputeMessages(self.api.recomputes, 0))
        app_module._scheduler = None
        response = self.api.http.put(path, headers={**self.headers, "Content-Type": "application/json"},
                                     body=json.dumps(body))
        assert response.status_code == 200, (path, response.status_code, response.body)
        return response.json_body

    def get(self, path):
        response = self.api.get(path, headers=self.headers)
        assert response.status_code == 200, (path, response.status_code, response.body)
        return response.json_body


def learn(ana: Learner):
    """Every route family that writes or reads a learner's data, signed in."""
    first = ana.post({"group_id": 1, "study_activity_id": 1, "created_at": "2026-01-05T09:00:00Z"})
    ana.post({"group_id": 1, "study_activity_id": 1}, path="/study_sessions", key="launch")
    ana.post({"group_id": 1, "study_activity_id": 1}, path="/study_sessions", key="launch")  # replayed
    session = first["id"]
    ana.post({"word_id": 1, "correct": True, "reviewed_at": "2026-01-05T09:01:00Z"},
             path=f"/api/study-sessions/{session}/review", key="answer")
    ana.post({"word_id": 1, "correct": True, "reviewed_at": "2026-01-05T09:01:00Z"},
             path=f"/api/study-sessions/{session}/review", key="answer")  # replayed
    ana.post({"correct": False, "reviewed_at": "2026-01-20T09:00:00Z"},
             path=f"/api/study-sessions/{session}/words/1/review")
    ana.post({"word_id": 1, "correct": True, "reviewed_at": "2026-01-10T09:00:00Z"},
             path=f"/api/study-sessions/{session}/review")  # late: the word's reviews replayed
    ana.post({"reviews": [{"word_id": 2, "is_correct": True}, {"word_id": 3, "is_correct": False}]},
             path=f"/study_sessions/{session}/review")
    for _ in range(2):  # a keyed round: its ids looked up first; then replayed
        ana.post({"reviews": [{"word_id": 2, "is_correct": False}]}, path=f"/study_sessions/{session}/review",
                 key="round")
    with pytest.MonkeyPatch.context() as patch:  # a round cut short after its commit: the consumer ends it
        patch.setattr(ReviewRepository, "_store_reviews", lambda *_: 1 / 0)
        cut_short = ana.api.post({"reviews": [{"word_id": 4, "is_correct": True}]}, headers=ana.headers,
                                 path=f"/study_sessions/{session}/review")
        assert cut_short.status_code == 500
    unknown = ana.api.post({"word_id": 999, "correct": True}, headers=ana.headers,
                           path=f"/api/study-sessions/{session}/review")
    assert unknown.status_code == 404  # the word is checked in the review's transaction
    for path in READS + [f"/api/study-sessions/{session}", f"/api/study-sessions/{session}/next-words"]:
        ana.get(path)
    ana.put({"desired_retention": 0.8}, "/api/me/scheduler")
    ana.post({"word_id": 2, "correct": True}, path=f"/api/study-sessions/{session}/review")  # with it
    return session


def export_every_page(learner: Learner, limit: int) -> int:
    pages, cursor = 1, learner.get(f"/api/me/export?limit={limit}")["next_cursor"]
    while cursor:
        pages, cursor = pages + 1, learner.get(f"/api/me/export?limit={limit}&cursor={cursor}")["next_cursor"]
    return pages


def fit_every_learner(api, learners, tmp_path):
    """POST /api/me/scheduler/fit for each learner, counted 1,000 reviews (the consumer's count, set
    here), and the fit worker run on the messages as its queue would: with so few reviews stored
    the engine answers too_few_reviews, and that answer is written."""
    from chalicelib.storage.dynamo import to_item
    from chalicelib.storage.queues import DirectoryQueue
    from chalicelib.storage.schema import SCHEDULER_WORD_ID, TOTALS
    from chalicelib.streams.fitter import NodeFitter
    from chalicelib.streams.fitting import FittingWorker
    from tests.test_fit_requests import Context, Recomputes

    pages = api.dynamodb.get_paginator("scan").paginate(TableName=api.names["memories"], ConsistentRead=True)
    owners = {from_item(item)["scope"] for page in pages for item in page["Items"]
              if from_item(item)["word_id"] == SCHEDULER_WORD_ID}
    for owner in owners:
        api.dynamodb.update_item(TableName=api.names["aggregates"],
                                 Key=to_item({"learner": owner, "item": TOTALS}),
                                 UpdateExpression="SET reviews = :n",
                                 ExpressionAttributeValues={":n": {"N": "1000"}})
    queue = DirectoryQueue(tmp_path / "fit-queue")
    app_module._services = app_module._services._replace(fit_queue=queue)
    app_module._scheduler = None
    services = app_module.services()
    app_module._fitting_worker = FittingWorker(services.store, NodeFitter(), Recomputes(), services.clock,
                                               services.histories.is_current)
    for learner in learners:
        answer = learner.api.http._http.post("/api/me/scheduler/fit", headers=learner.headers)
        assert answer.status_code == 202, answer.body
    from devtools.stream_poller import scheduled_event

    # the others are histories reset or erased, their totals not yet purged: read, and passed over
    assert len(owners) > len(learners)
    assert app_module.fit_learners_due(scheduled_event(), Context()) == {"queued": 0}
    # the learners' own requests, queued first
    assert queue.drain(lambda event: app_module.fit_learners(event, Context()), limit=len(learners)) \
        == len(learners)


def consume(api):
    """The stream consumer on the streams' records, then the recompute function on the messages
    of its queue, as SQS hands them (the delayed one at once here): after the consumer wrote a
    round's reviews cut short, as a redelivery would find them."""
    from tests.test_fit_requests import Context

    process(stream_records(api), api.names, AggregateWriter(api.dynamodb, api.names))
    if hasattr(api, "recomputes"):
        services = app_module.services()
        app_module._recomputer = lambda event: handle(services.store, event, services.histories.is_current)
        api.recomputes.drain(lambda event: app_module.recompute_memories(event, Context()))


@pytest.fixture(params=["dev", "prod", "local"])
def stage(request, api, pool, monkeypatch):  # noqa: F811 - pool is the imported fixture
    """The stage's packaged roles (local: the same roles, not packaged), its settings, two learners."""
    client, settings, tokens = pool
    template = packaged_roles_template() if request.param == "local" else packaged(request.param)[1]
    api.roles.template = template
    signed_in = request.param != "local"
    if signed_in:
        monkeypatch.setattr(app_module, "auth_mode", lambda: "cognito")
        api.restart(resets=request.param == "dev", AUTH_MODE="cognito", USER_POOL_ID=settings["user_pool_id"])
    else:
        api.restart(resets=True, USER_POOL_ID=settings["user_pool_id"])
    learners = [Learner(api, tokens[name]) for name, _ in (ANA, BEN)] if signed_in else [Learner(api, None)]
    return request.param, client, settings, learners


def granted_calls(enforcer):
    """Every (function, action, resource) the roles grant to DynamoDB and Cognito calls of the code:
    the streams' reads belong to the event source mapping, not to a call of the function."""
    stream_actions = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                      "dynamodb:ListStreams"}
    return {(function, action, resource) for function, role in enforcer.roles.items()
            for actions, resources in role.grants for action in actions for resource in resources
            if action.startswith(("dynamodb:", "cognito-idp:")) and action not in stream_actions}


def test_every_call_of_every_function_is_granted_by_its_own_packaged_role(api, stage, tmp_path, monkeypatch):
    name, client, settings, learners = stage
    ana = learners[0]

    learn(ana)
    consume(api)
    if name != "prod":
        ana.post({}, path="/api/study-sessions/reset")
        learn(ana)
    assert export_every_page(ana, limit=3) > 1
    if name != "local":
        ben = learners[1]
        learn(ben)
        if name == "dev":
            ben.post({}, path="/api/study-sessions/reset")
            learn(ben)
        consume(api)
        assert api.http.request("DELETE", "/api/me", headers=ben.headers, body=b"").status_code == 202
    consume(api)
    monkeypatch.setattr(app_module, "_fitting_worker", None)
    fit_every_learner(api, learners[:1], tmp_path)
    # the reset's and the erasure's, with its account (local has no sign-in: no accounts)
    accounts = CognitoAccounts(lambda: client, settings["user_pool_id"]).delete if name != "local" else None
    HistoryPurger(api.dynamodb, api.names, grace_seconds=0, delete_account=accounts).purge()

    assert not api.roles.denied, [call.describe() for call in api.roles.denied]
    if name != "local":  # local has no sign-in, so no erasure: held against dev's roles, which have it
        assert granted_calls(api.roles) - api.roles.used == set()  # nothing granted that no call needed


def test_a_call_the_role_does_not_grant_is_refused_as_aws_would_and_names_what_was_missing(api):
    api.roles.template = {"Resources": {"DataAccessPolicy": {"Type": "AWS::IAM::Policy", "Properties": {
        "Roles": [{"Ref": "ApiHandlerRole"}], "PolicyDocument": {"Statement": [{
            "Effect": "Allow", "Action": ["dynamodb:BatchGetItem", "dynamodb:Scan"],
            "Resource": [{"Fn::GetAtt": ["GroupsTable", "Arn"]}]}]}}}}}
    api.roles.bind(api.roles.binding)

    response = api.post({"group_id": 1, "study_activity_id": 1})

    assert response.status_code == 500 and api.session_count() == 0
    assert [call.describe() for call in api.roles.denied][:1] == [
        "function api: dynamodb:BatchGetItem on table study_activities"]
    api.roles.denied.clear()  # the fixture fails a test that leaves a refusal behind


def test_readme_shows_the_roles_as_written_from_the_declaration():
    from devtools.policies import readme_table
    from devtools.stage import PROJECT_DIR

    assert readme_table() in (PROJECT_DIR / "README.md").read_text()
