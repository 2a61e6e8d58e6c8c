"""Faults at the transport between the function and DynamoDB Local: lost answers, transport
errors, a server that never answers and a refused port. Real sockets, real resends."""
import time

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    ConnectionClosedError,
    ProxyConnectionError,
    ReadTimeoutError,
    SSLError,
)
from botocore.httpsession import URLLib3Session

import app as app_module
from chalicelib.config import build_services
from chalicelib.storage.schema import TABLES
from devtools import dynamodb_local
from devtools.dynamodb_local import free_port
from tests.dynamodb_proxy import FAIL_500, FORWARD, LATE, OVERTAKEN, DynamoDBProxy
from tests.helpers import assert_error

VALID = {"group_id": 1, "study_activity_id": 1}


@pytest.fixture
def dynamodb(dynamodb_local_server):
    """These faults are injected in front of a real DynamoDB, so only DynamoDB Local."""
    yield dynamodb_local.client(dynamodb_local_server.endpoint)


def on_send(client, operation, handler):
    """Run ``handler(request)`` in place of botocore's send for every attempt of ``operation``."""
    event = f"before-send.dynamodb.{operation}"
    client.meta.events.register(event, handler, unique_id=f"fault-{operation}")
    return lambda: client.meta.events.unregister(event, unique_id=f"fault-{operation}")


def lose_first_answer(attempts):
    """The first attempt reaches DynamoDB and is applied; its answer never comes back."""
    transport = URLLib3Session()

    def send(request, **_):
        attempts.append(request.body)
        if len(attempts) == 1:
            transport.send(request)
            raise ReadTimeoutError(endpoint_url=request.url)
        return None  # botocore sends it itself

    return send


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "lost-answer"}])
def test_a_create_whose_answer_was_lost_is_one_plain_201(api, headers):
    attempts = []
    on_send(api.dynamodb, "PutItem", lose_first_answer(attempts))

    response = api.post(VALID, headers=headers)

    assert len(attempts) == 2 and attempts[0] == attempts[1]  # botocore resent the same item
    assert response.status_code == 201, response.body
    assert "Idempotent-Replayed" not in response.headers
    [item] = api.session_items()
    assert item["id"]["S"] == response.json_body["id"]


def test_a_replay_after_a_lost_answer_is_still_a_replay(api):
    first = api.post(VALID, headers={"Idempotency-Key": "k"})
    attempts = []
    on_send(api.dynamodb, "PutItem", lose_first_answer(attempts))

    again = api.post(VALID, headers={"Idempotency-Key": "k"})

    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json_body == first.json_body
    assert api.session_count() == 1


def raising(error):
    def send(request, **_):
        raise error(request)

    return send


@pytest.mark.parametrize(
    "error",
    [
        lambda r: SSLError(endpoint_url=r.url, error="handshake failed"),
        lambda r: ProxyConnectionError(proxy_url="http://proxy.invalid", error="refused"),
        lambda r: ConnectionClosedError(endpoint_url=r.url),
        lambda r: ReadTimeoutError(endpoint_url=r.url),
    ],
    ids=["ssl", "proxy", "closed", "read-timeout"],
)
def test_a_read_in_transport_trouble_is_503_with_retry_after_and_writes_nothing(api, error):
    attempts = []
    on_send(api.dynamodb, "BatchGetItem", counting(attempts, raising(error)))

    response = api.post(VALID)

    assert_error(response, 503, "unavailable", "retry")
    assert response.headers["Retry-After"] == "1"
    assert len(attempts) == 2
    assert api.session_count() == 0


@pytest.mark.parametrize(
    "error",
    [
        lambda r: SSLError(endpoint_url=r.url, error="handshake failed"),
        lambda r: ProxyConnectionError(proxy_url="http://proxy.invalid", error="refused"),
    ],
    ids=["ssl", "proxy"],
)
def test_a_write_that_never_left_is_503_retry(api, error):
    on_send(api.dynamodb, "PutItem", raising(error))

    response = api.post(VALID)

    assert_error(response, 503, "unavailable", "retry")
    assert api.session_count() == 0


@pytest.mark.parametrize(
    "error",
    [lambda r: ConnectionClosedError(endpoint_url=r.url), lambda r: ReadTimeoutError(endpoint_url=r.url)],
    ids=["closed", "read-timeout"],
)
def test_a_write_sent_and_never_confirmed_is_503_outcome_unknown(api, error):
    attempts = []
    on_send(api.dynamodb, "PutItem", counting(attempts, raising(error)))

    response = api.post(VALID)

    assert_error(response, 503, "outcome_unknown", "may or may not be stored", "Idempotency-Key")
    assert response.headers["Retry-After"] == "1"
    assert len(attempts) == 2 and attempts[0] == attempts[1]  # the same write, resent once


def counting(attempts, send):
    def count(request, **kwargs):
        attempts.append(request.body)
        return send(request, **kwargs)

    return count


class RawBody:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body


@pytest.mark.parametrize("code, status", [("InternalFailure", 500), ("ServiceUnavailable", 503),
                                          ("SomethingNew", 502)])
@pytest.mark.parametrize("operation, outcome", [("BatchGetItem", "unavailable"),
                                               ("PutItem", "outcome_unknown")])
def test_a_dynamodb_5xx_answer_is_503(api, code, status, operation, outcome):
    """A 5xx does not say whether a write was applied: a write's 503 says so."""
    body = f'{{"__type": "com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}}'.encode()
    on_send(api.dynamodb, operation,
            lambda request, **_: AWSResponse(request.url, status, {}, RawBody(body)))

    response = api.post(VALID)

    assert_error(response, 503, outcome)
    assert api.session_count() == 0


def service_at(endpoint, names, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
    environ = {table.env_var: names[logical] for logical, table in TABLES.items()}
    monkeypatch.setattr(app_module, "_services", build_services(environ))


def timed_post(api):
    start = time.monotonic()
    response = api.post(VALID)
    return response, time.monotonic() - start


def test_a_silent_dynamodb_answers_503_within_3_seconds_after_at_most_2_attempts(api, silent_dynamodb,
                                                                                  monkeypatch):
    endpoint, connections = silent_dynamodb
    service_at(endpoint, api.names, monkeypatch)

    response, seconds = timed_post(api)

    assert_error(response, 503, "unavailable")
    assert response.headers["Retry-After"] == "1"
    assert seconds < 3.0, seconds  # a bound, with margin: the budget is 2.5 s
    assert 1 <= len(connections) <= 2  # a timed-out connection is not used again


def test_a_refused_connection_answers_503_within_about_a_second(api, monkeypatch):
    service_at(f"http://127.0.0.1:{free_port()}", api.names, monkeypatch)

    response, seconds = timed_post(api)

    assert_error(response, 503, "unavailable")
    assert seconds < 1.5, seconds  # a bound, with margin: one retry after under 1 s of backoff


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "lost-review"}])
def test_a_review_whose_answer_was_lost_is_counted_once(api, headers):
    session = api.post(VALID).json_body
    attempts = []
    on_send(api.dynamodb, "TransactWriteItems", lose_first_answer(attempts))

    response = api.post({"word_id": 3, "correct": False}, headers=headers,
                        path=f"/api/study-sessions/{session['id']}/review")

    assert len(attempts) == 2 and attempts[0] == attempts[1]  # the same token, resent
    assert response.status_code == 201, response.body
    assert "Idempotent-Replayed" not in response.headers
    page = api.get(f"/api/study-sessions/{session['id']}").json_body
    assert page["session"]["review_items_count"] == 1
    assert [(w["id"], w["correct_count"], w["wrong_count"]) for w in page["words"]] == [(3, 0, 1)]
    assert len(api.dynamodb.scan(TableName=api.names["word_reviews"])["Items"]) == 1


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "lost-round"}])
def test_a_round_whose_answer_was_lost_is_counted_once(api, headers):
    """Without a key a round's ids are new, so only its write tokens tell the resend its own."""
    session = api.post(VALID).json_body
    attempts = []
    on_send(api.dynamodb, "TransactWriteItems", lose_first_answer(attempts))
    body = {"reviews": [{"word_id": 3, "is_correct": False}, {"word_id": 4, "is_correct": True}]}

    response = api.post(body, headers=headers, path=f"/study_sessions/{session['id']}/review")

    assert len(attempts) == 2 and attempts[0] == attempts[1]
    assert response.status_code == 201, response.body
    assert "Idempotent-Replayed" not in response.headers
    page = api.get(f"/api/study-sessions/{session['id']}").json_body
    assert page["session"]["review_items_count"] == 2
    assert len(api.dynamodb.scan(TableName=api.names["word_reviews"])["Items"]) == 2


@pytest.mark.parametrize("order", [LATE, OVERTAKEN])
@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "delayed-write"}])
def test_a_create_delayed_past_its_timeout_is_one_201_and_one_item(api, monkeypatch, order, headers):
    """The PutItem reaches DynamoDB only after its client gave up (read timeout): applied before
    its resend, or after it. Either way the resend learns the outcome: 201, one item."""
    plan = {("PutItem", 0): order}
    with DynamoDBProxy(api.dynamodb.meta.endpoint_url, lambda op, nth: plan.get((op, nth), FORWARD)) as proxy:
        service_at(proxy.endpoint, api.names, monkeypatch)

        response = api.post(VALID, headers=headers)

    assert response.status_code == 201, response.body
    assert "Idempotent-Replayed" not in response.headers
    assert proxy.count("PutItem") == 2
    [item] = api.session_items()
    assert item["id"]["S"] == response.json_body["id"]


@pytest.mark.parametrize("order", [LATE, OVERTAKEN])
@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "delayed-review"}])
def test_a_review_delayed_past_its_timeout_is_counted_once(api, monkeypatch, order, headers):
    session = api.post(VALID).json_body
    plan = {("TransactWriteItems", 0): order}
    with DynamoDBProxy(api.dynamodb.meta.endpoint_url, lambda op, nth: plan.get((op, nth), FORWARD)) as proxy:
        service_at(proxy.endpoint, api.names, monkeypatch)

        response = api.post({"word_id": 3, "correct": True}, headers=headers,
                            path=f"/api/study-sessions/{session['id']}/review")

    assert response.status_code == 201, response.body
    assert proxy.count("TransactWriteItems") == 2
    page = api.get(f"/api/study-sessions/{session['id']}").json_body
    assert page["session"]["review_items_count"] == 1
    assert len(api.dynamodb.scan(TableName=api.names["word_reviews"])["Items"]) == 1


def test_a_write_whose_every_attempt_got_a_500_is_503_outcome_unknown_with_two_attempts(api, monkeypatch):
    with DynamoDBProxy(api.dynamodb.meta.endpoint_url,
                       lambda op, nth: FAIL_500 if op == "PutItem" else FORWARD) as proxy:
        service_at(proxy.endpoint, api.names, monkeypatch)

        response = api.post(VALID)

    assert_error(response, 503, "outcome_unknown", "Idempotency-Key")
    assert proxy.count("PutItem") == 2


def test_failed_first_attempts_never_use_up_the_second_ones(api, monkeypatch):
    """botocore's retry quota drained by retries it was not allowed to make; ours has none:
    after 40 requests whose first attempts failed, the 41st still gets its second attempt."""
    with DynamoDBProxy(api.dynamodb.meta.endpoint_url,
                       lambda op, nth: FAIL_500 if op == "PutItem" and nth % 2 == 0 else FORWARD) as proxy:
        service_at(proxy.endpoint, api.names, monkeypatch)

        statuses = [api.post(VALID).status_code for _ in range(41)]

    assert statuses == [201] * 41
    assert proxy.count("PutItem") == 82
    assert api.session_count() == 41
