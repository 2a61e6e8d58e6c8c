"""The console test events replayed through the Lambda handler, app.app, with the environment the
packaged function has (AUTH_MODE=cognito, LEARNER_CLIENT_IDS = the stack's app client): as
`make console-events` writes them for a stage, with that client as each token's audience."""
import json
from pathlib import Path

import pytest

import app as app_module
from devtools.cold_start import Context
from devtools.console_events import write
from tests.helpers import CREATED_KEYS

EVENTS = Path(__file__).resolve().parent.parent / "events"
CLIENT_ID = "4kq7d2example0app0client"  # what the stack's LearnerPoolClientId output would be
# What the README promises for each event.
EXPECTED = {
    "create-session.json": (201, {"group_name": "Core Verbs", "start_time": "2026-11-26T21:54:23Z"}),
    "create-session-base64.json": (201, {"group_name": "Core Adjectives"}),
    "create-session-custom-domain.json": (201, {"group_name": "Core Adjectives"}),
    "validation-error.json": (400, {"code": "validation_error"}),
    "unknown-group.json": (404, {"code": "not_found", "error": "Group 999 does not exist."}),
    # after create-session.json, whose Idempotency-Key fixes the session id it names
    "review-word.json": (201, {"word_id": 1, "correct": True}),
}


@pytest.fixture(autouse=True)
def signed_in_stage(monkeypatch):
    """The events carry the claims API Gateway's Cognito authorizer passes on, as on dev and prod."""
    monkeypatch.setenv("AUTH_MODE", "cognito")
    monkeypatch.setenv("LEARNER_CLIENT_IDS", CLIENT_ID)


@pytest.fixture
def stage_events(tmp_path):
    """What `make console-events STAGE=dev` writes."""
    return write("dev", CLIENT_ID, tmp_path / "events")


def replay(folder, name):
    return app_module.app(json.loads((folder / name).read_text()), Context())


def test_every_event_file_has_a_documented_answer():
    assert sorted(path.name for path in EVENTS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_console_event_gets_the_documented_answer(api, stage_events, name):
    event = json.loads((stage_events / name).read_text())
    status, expected_fields = EXPECTED[name]
    if name == "review-word.json":
        assert replay(stage_events, "create-session.json")["statusCode"] == 201

    result = app_module.app(event, Context())

    assert result["statusCode"] == status
    assert result["headers"]["Content-Type"] == "application/json"
    body = json.loads(result["body"])
    assert expected_fields.items() <= body.items()
    if name == "review-word.json":
        assert body["study_session_id"] == event["pathParameters"]["session_id"]
        api.count_history()  # what the stream consumer then writes on the session
        session = json.loads(replay(stage_events, "create-session.json")["body"])  # a replay shows the count
        assert session["review_items_count"] == 1
    elif status == 201:
        assert set(body) == CREATED_KEYS
        # The path the client called, stage or base path mapping included, so following it works.
        called = event["requestContext"]["path"]
        assert result["headers"]["Location"] == f"{called}/{body['id']}"
    assert api.session_count() == (1 if status == 201 else 0)


@pytest.mark.parametrize("name", ["create-session.json", "review-word.json"])
def test_an_event_without_the_stack_s_client_as_audience_is_401_on_a_deployed_function(api, name):
    result = replay(EVENTS, name)  # events/ as stored: no audience

    assert (result["statusCode"], json.loads(result["body"])["code"]) == (401, "unauthorized")
    assert api.session_count() == 0


def test_a_5xx_carries_the_api_gateway_request_id(api, stage_events, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom in lang-portal-local-study-sessions")

    monkeypatch.setattr(app_module.services().sessions, "create", broken)
    result = replay(stage_events, "create-session.json")

    assert result["statusCode"] == 500
    body = json.loads(result["body"])
    assert body == {
        "error": "The server could not complete the request.",
        "code": "internal_error",
        "request_id": "console-test-create-session",
    }
