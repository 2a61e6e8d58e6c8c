"""Exactly-once creation with Idempotency-Key, on moto and on DynamoDB Local."""
from datetime import UTC, datetime

import pytest

import app as app_module
from tests.helpers import assert_error

BODY = {"group_id": 1, "study_activity_id": 1}


def test_a_repeated_key_with_the_same_payload_replays_the_first_answer(api):
    first = api.post(BODY, headers={"Idempotency-Key": "order-1"})
    again = api.post(BODY, headers={"Idempotency-Key": "order-1"})

    assert first.status_code == again.status_code == 201
    assert again.json_body == first.json_body
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.session_count() == 1


def test_a_defaulted_created_at_does_not_make_a_retry_a_new_payload(api, monkeypatch):
    first = api.post(BODY, headers={"Idempotency-Key": "retry-later"})
    later = datetime(2031, 1, 1, tzinfo=UTC)
    monkeypatch.setattr(app_module.services().sessions, "_clock", lambda: later)

    again = api.post(BODY, headers={"Idempotency-Key": "retry-later"})

    assert again.status_code == 201
    assert again.json_body == first.json_body
    assert api.session_count() == 1


def test_the_same_moment_in_another_offset_is_the_same_payload(api):
    key = {"Idempotency-Key": "moment"}
    first = api.post({**BODY, "created_at": "2026-11-26T21:54:23Z"}, headers=key)
    again = api.post({**BODY, "created_at": "2026-11-26T23:54:23+02:00"}, headers=key)

    assert again.status_code == 201
    assert again.json_body["id"] == first.json_body["id"]
    assert api.session_count() == 1


@pytest.mark.parametrize(
    "other", [{"group_id": 2, "study_activity_id": 1}, {**BODY, "created_at": "2026-01-01T00:00:00Z"}]
)
def test_a_repeated_key_with_another_payload_is_422_and_writes_nothing(api, other):
    api.post(BODY, headers={"Idempotency-Key": "order-2"})

    response = api.post(other, headers={"Idempotency-Key": "order-2"})

    assert_error(response, 422, "idempotency_key_reused", "different payload")
    assert api.session_count() == 1


def test_different_keys_make_different_sessions(api):
    ids = {
        api.post(BODY, headers={"Idempotency-Key": key}).json_body["id"] for key in ("a", "b", "c")
    }

    assert len(ids) == 3
    assert api.session_count() == 3


def test_a_refused_first_request_does_not_use_up_the_key(api):
    refused = api.post({"group_id": 9, "study_activity_id": 1}, headers={"Idempotency-Key": "k"})
    assert refused.status_code == 404

    response = api.post(BODY, headers={"Idempotency-Key": "k"})

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "bad\x01key", "ключ"])
def test_an_invalid_key_is_400_and_writes_nothing(api, key):
    response = api.post(BODY, headers={"Idempotency-Key": key})

    assert_error(response, 400, "validation_error", "Idempotency-Key must be 1 to 255")
    assert api.session_count() == 0


def test_the_longest_key_is_accepted(api):
    response = api.post(BODY, headers={"Idempotency-Key": "~" * 255})

    assert response.status_code == 201
