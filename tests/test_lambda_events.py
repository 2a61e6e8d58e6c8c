"""The console test events in events/ replayed through the Lambda handler, app.app."""
import json
from pathlib import Path

import pytest

import app as app_module
from devtools.cold_start import Context
from tests.helpers import CREATED_KEYS

EVENTS = Path(__file__).resolve().parent.parent / "events"
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


def replay(name):
    return app_module.app(json.loads((EVENTS / name).read_text()), Context())


def test_every_event_file_has_a_documented_answer():
    assert sorted(path.name for path in EVENTS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_console_event_gets_the_documented_answer(api, name):
    event = json.loads((EVENTS / name).read_text())
    status, expected_fields = EXPECTED[name]
    if name == "review-word.json":
        assert replay("create-session.json")["statusCode"] == 201

    result = app_module.app(event, Context())

    assert result["statusCode"] == status
    assert result["headers"]["Content-Type"] == "application/json"
    body = json.loads(result["body"])
    assert expected_fields.items() <= body.items()
    if name == "review-word.json":
        assert body["study_session_id"] == event["pathParameters"]["session_id"]
        session = json.loads(replay("create-session.json")["body"])  # a replay shows the count
        assert session["review_items_count"] == 1
    elif status == 201:
        assert set(body) == CREATED_KEYS
        # The path the client called, stage or base path mapping included, so following it works.
        called = event["requestContext"]["path"]
        assert result["headers"]["Location"] == f"{called}/{body['id']}"
    assert api.session_count() == (1 if status == 201 else 0)


def test_a_5xx_carries_the_api_gateway_request_id(api, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom in lang-portal-local-study-sessions")

    monkeypatch.setattr(app_module.service(), "create", broken)
    event = json.loads((EVENTS / "create-session.json").read_text())

    result = app_module.app(event, Context())

    assert result["statusCode"] == 500
    body = json.loads(result["body"])
    assert body == {
        "error": "The server could not complete the request.",
        "code": "internal_error",
        "request_id": "console-test-create-session",
    }
