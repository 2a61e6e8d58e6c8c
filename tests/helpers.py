"""Assertions shared by the API tests."""
import json
import time

SESSION_KEYS = {
    "id", "group_id", "group_name", "activity_id", "activity_name",
    "start_time", "end_time", "review_items_count",
}
CREATED_KEYS = SESSION_KEYS | {"session_id"}  # a 201 also names the id as the lang-portal reads it


def session_page(session, words=(), page=1, per_page=10):
    """GET /api/study-sessions/{id}: the session and its reviewed words, paged."""
    words = list(words)
    return {"session": session, "words": words, "total": len(words), "page": page,
            "per_page": per_page, "total_pages": -(-len(words) // per_page)}


def without_session_id(created):
    assert created["session_id"] == created["id"]
    return {name: value for name, value in created.items() if name != "session_id"}


def assert_error(response, status, code, *phrases):
    """A JSON error of this status and code whose message holds each phrase."""
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.body)
    assert body["code"] == code
    assert set(body) == ({"error", "code", "request_id"} if status >= 500 else {"error", "code"})
    for phrase in phrases:
        assert phrase in body["error"]
    return body


TRANSACTION_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "ConditionCheck": "ConditionCheckItem",
                       "Delete": "DeleteItem"}


class DynamoDBCalls:
    """Records the DynamoDB operations a client makes, by name."""

    def __init__(self, client):
        self.operations = []
        self.tables = []  # (operation, tables it named)
        self._client = client
        client.meta.events.register("before-parameter-build.dynamodb", self._record, unique_id=id(self))

    def _record(self, model, params, **_):
        self.operations.append(model.name)
        for kind, item in (entry for entry in params.get("TransactItems", []) for entry in entry.items()):
            self.tables.append((TRANSACTION_ACTIONS[kind], [item["TableName"]]))  # IAM checks each item
        if "TransactItems" in params:
            return
        named = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
        self.tables.append((model.name, named))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._client.meta.events.unregister("before-parameter-build.dynamodb", unique_id=id(self))


def reference_memories(answers):
    """What each review's 201 shows of memory, by the reference scheduler (`fsrs`, fuzzing off),
    for one word's answers [(reviewed_at, correct)] in the order they are replayed."""
    from datetime import UTC, datetime

    import fsrs

    scheduler, card, shown = fsrs.Scheduler(enable_fuzzing=False), fsrs.Card(card_id=1), []
    for number, (reviewed_at, correct) in enumerate(answers):
        at = datetime.strptime(reviewed_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        before = scheduler.get_card_retrievability(card, at) if number else None
        card, _ = scheduler.review_card(card, fsrs.Rating.Good if correct else fsrs.Rating.Again, at)
        shown.append({"state": card.state.name.lower(), "stability": card.stability,
                      "difficulty": card.difficulty, "due": card.due.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "retrievability": before})
    return shown


def settled(read, done, within: float = 30.0):
    """``read()`` again until ``done`` says its result is complete, or ``within`` seconds have
    passed; the last result. A session's figures are the stream consumer's: they follow a 201 by
    about a second (the test asserts on what it gets, never on how long it took)."""
    deadline = time.monotonic() + within
    while True:
        result = read()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def scan(api, logical):
    """Every item of one of api's tables, read consistently."""
    from chalicelib.storage.dynamo import from_item

    pages = api.dynamodb.get_paginator("scan").paginate(TableName=api.names[logical], ConsistentRead=True)
    return [from_item(item) for page in pages for item in page["Items"]]
