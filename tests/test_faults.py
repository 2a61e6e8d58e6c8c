"""DynamoDB failures: unreachable, throttled, or answering with an unexpected error."""
import json
import logging

import pytest
from botocore.awsrequest import AWSResponse

import app as app_module
from chalicelib.config import DEPLOYED_LIMITS, build_services, dynamodb_client, dynamodb_limits
from chalicelib.core.errors import InternalError
from chalicelib.storage.deadline import DynamoDBLimits
from devtools.dynamodb_local import free_port
from devtools.stage import stage_environment
from tests.helpers import assert_error

VALID = {"group_id": 1, "study_activity_id": 1}


def inject_error(client, operation, code, status=400):
    """Make every ``operation`` call of a real client fail with this DynamoDB error code,
    as botocore's Stubber does, while other operations still reach DynamoDB."""

    def fail(**kwargs):
        response = AWSResponse("http://fault", status, {}, None)
        return response, {"Error": {"Code": code, "Message": f"injected {code}"}}

    client.meta.events.register(f"before-call.dynamodb.{operation}", fail)


def error_log_lines(caplog):
    lines = [json.loads(r.getMessage()) for r in caplog.records if "error_reply" in r.getMessage()]
    return lines


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deployed_stages_give_up_within_seconds_not_minutes(stage):
    """The settings behind README's figures; tests/test_transport_faults.py times them."""
    assert dynamodb_limits(stage_environment(stage)) == DEPLOYED_LIMITS == DynamoDBLimits(
        connect_timeout=0.25, read_timeout=0.6, budget_seconds=2.5, max_connections=10)


def test_the_local_stage_waits_for_dynamodb_local_with_a_pool_for_the_dev_server():
    assert dynamodb_limits(stage_environment("local")) == DynamoDBLimits(
        connect_timeout=1.0, read_timeout=5.0, budget_seconds=12.0, max_connections=16)


def test_botocore_resends_nothing_itself_and_the_pool_follows_the_stage():
    client = dynamodb_client(dynamodb_limits(stage_environment("local")))
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert (client.meta.config.read_timeout, client.meta.config.max_pool_connections) == (5.0, 16)


def test_a_limit_that_is_not_a_number_is_a_500_naming_the_variable():
    with pytest.raises(InternalError) as raised:
        dynamodb_limits({"DYNAMODB_READ_TIMEOUT": "soon"})
    assert "DYNAMODB_READ_TIMEOUT" in raised.value.cause


def test_unreachable_dynamodb_is_503_with_retry_after(api, monkeypatch, caplog):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
    environ = {**app_module.os.environ, **{
        "GROUPS_TABLE": api.names["groups"],
        "STUDY_ACTIVITIES_TABLE": api.names["study_activities"],
        "STUDY_SESSIONS_TABLE": api.names["study_sessions"],
    }}
    monkeypatch.setattr(app_module, "_services", build_services(environ))

    with caplog.at_level(logging.INFO):
        response = api.post(VALID)

    body = assert_error(response, 503, "unavailable", "retry")
    assert response.headers["Retry-After"] == "1"
    assert body["request_id"] == response.headers["X-Request-Id"]
    [line] = error_log_lines(caplog)
    assert line["code"] == "unavailable" and line["request_id"] == body["request_id"]
    assert "EndpointConnectionError" in line["cause"]


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
@pytest.mark.parametrize("operation", ["BatchGetItem", "PutItem"])
def test_throttling_is_503_and_writes_nothing(api, code, operation):
    inject_error(api.dynamodb, operation, code)

    response = api.post(VALID)

    assert_error(response, 503, "unavailable")
    assert response.headers["Retry-After"] == "1"
    api.dynamodb.meta.events.unregister(f"before-call.dynamodb.{operation}")
    assert api.session_count() == 0


def test_an_unexpected_dynamodb_error_is_500_without_internals(api, caplog):
    inject_error(api.dynamodb, "PutItem", "AccessDeniedException")

    with caplog.at_level(logging.INFO):
        response = api.post(VALID)

    body = assert_error(response, 500, "internal_error")
    assert "AccessDenied" not in response.body.decode()
    assert api.names["study_sessions"] not in response.body.decode()
    [line] = error_log_lines(caplog)
    assert line.pop("traceback").startswith("Traceback")
    assert line == {
        "event": "error_reply", "request_id": body["request_id"], "method": "POST",
        "path": "/api/study-sessions", "status": 500, "code": "internal_error",
        "cause": "DynamoDB AccessDeniedException",
    }


def test_a_bug_is_500_without_exception_text(api, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise KeyError("lang-portal-local-study-sessions")

    monkeypatch.setattr(app_module.services().sessions, "create", broken)

    with caplog.at_level(logging.INFO):
        response = api.post(VALID)

    assert_error(response, 500, "internal_error")
    assert "lang-portal" not in response.body.decode()
    [line] = error_log_lines(caplog)
    assert "KeyError" in line["cause"]
    assert "lang-portal-local-study-sessions" in line["traceback"]


def test_a_client_error_reply_is_logged_once_with_its_cause(api, caplog):
    with caplog.at_level(logging.INFO):
        response = api.post({"group_id": 5, "study_activity_id": 1})

    assert response.status_code == 404
    [line] = error_log_lines(caplog)
    assert line["status"] == 404 and line["cause"] == "Group 5 does not exist."
