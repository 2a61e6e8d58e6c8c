"""POST /api/study-sessions through Chalice's test client, on moto and on DynamoDB Local."""
import json

import pytest

from chalicelib.learners.reference_cache import DEFAULT_MISS_TTL_SECONDS
from tests.helpers import CREATED_KEYS, assert_error


def test_create_answers_201_with_the_session_and_stores_it(api):
    response = api.post({"group_id": 1, "study_activity_id": 1, "created_at": "2026-11-26T21:54:23Z"})

    assert response.status_code == 201
    session = response.json_body
    assert set(session) == CREATED_KEYS
    assert session == {
        "id": session["id"], "session_id": session["id"], "group_id": 1, "group_name": "Core Verbs",
        "activity_id": 1,
        "activity_name": "Typing Tutor", "start_time": "2026-11-26T21:54:23Z",
        "end_time": "2026-11-26T21:54:23Z", "review_items_count": 0,
    }
    assert response.headers["Location"] == f"/api/study-sessions/{session['id']}"
    [item] = api.session_items()
    assert item["id"] == {"S": session["id"]}
    assert item["group_id"] == {"N": "1"}
    assert item["study_activity_id"] == {"N": "1"}
    assert item["created_at"] == {"S": "2026-11-26T21:54:23Z"}


def test_created_at_defaults_to_now_in_utc(api):
    response = api.post({"group_id": 2, "study_activity_id": 1})

    assert response.status_code == 201
    start = response.json_body["start_time"]
    assert start.endswith("Z") and len(start) == len("2026-11-26T21:54:23Z")
    assert response.json_body["end_time"] == start


def test_created_at_with_an_offset_is_stored_in_utc(api):
    response = api.post(
        {"group_id": 1, "study_activity_id": 1, "created_at": "2026-11-27T00:30:00+02:00"}
    )

    assert response.json_body["start_time"] == "2026-11-26T22:30:00Z"


def test_each_create_makes_a_new_session(api):
    ids = {api.post({"group_id": 1, "study_activity_id": 1}).json_body["id"] for _ in range(3)}

    assert len(ids) == 3
    assert api.session_count() == 3


def test_a_request_without_content_type_is_read_as_json(api):
    response = api.http.post(
        "/api/study-sessions", headers={}, body=json.dumps({"group_id": 1, "study_activity_id": 1})
    )

    assert response.status_code == 201
    assert api.session_count() == 1


def test_json_with_charset_is_json(api):
    response = api.post(
        {"group_id": 1, "study_activity_id": 1},
        headers={"Content-Type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 201


def test_cors_headers_come_with_the_created_session(api):
    response = api.post({"group_id": 1, "study_activity_id": 1})

    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Location" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    "body, phrases",
    [
        ("{not json", ["not valid JSON"]),
        (b'{"group_id": 1, "study_activity_id": "\xff"}', ["not valid UTF-8"]),
        ("[1, 2]", ["must be a JSON object"]),
        ("{}", ["Missing required field(s): group_id, study_activity_id."]),
        ({"group_id": 1}, ["Missing required field(s): study_activity_id."]),
        ({"study_activity_id": 1}, ["Missing required field(s): group_id."]),
        ({"group_id": True, "study_activity_id": 1}, ["group_id must be an integer"]),
        ({"group_id": 1.0, "study_activity_id": 1}, ["group_id must be an integer"]),
        ({"group_id": "1", "study_activity_id": 1}, ["group_id must be an integer"]),
        ({"group_id": None, "study_activity_id": 1}, ["group_id must be an integer"]),
        ({"group_id": 0, "study_activity_id": 1}, ["group_id must be an integer"]),
        ({"group_id": 1, "study_activity_id": -3}, ["study_activity_id must be an integer"]),
        ({"group_id": 2**53, "study_activity_id": 1}, ["group_id must be an integer"]),
        ({"group_id": 1, "study_activity_id": 1, "created_at": 5}, ["created_at must be an RFC 3339"]),
        ({"group_id": 1, "study_activity_id": 1, "created_at": "2026-11-26T21:54:23"},
         ["created_at must be an RFC 3339"]),
        ({"group_id": 1, "study_activity_id": 1, "created_at": "2026-02-30T10:00:00Z"},
         ["created_at is not a real date"]),
        ({"group_id": 1, "study_activity_id": 1, "notes": "x", "user_id": 1},
         ["Unknown field(s): notes, user_id"]),
        ({"group_id": 1, "study_activity_id": 1, "created_at": "9999-12-31T23:59:59Z"},
         ["created_at is in the future", "more than 5 minutes"]),
        ('{"group_id": 1, "group_id": 2, "study_activity_id": 1}',
         ['The member "group_id" appears more than once']),
    ],
)
def test_invalid_input_is_400_naming_the_problem_and_writes_nothing(api, body, phrases):
    response = api.post(body)

    assert_error(response, 400, "validation_error", *phrases)
    assert api.session_count() == 0


def test_an_unknown_group_is_404_naming_it_and_writes_nothing(api):
    response = api.post({"group_id": 99, "study_activity_id": 1})

    body = assert_error(response, 404, "not_found", "Group 99 does not exist.")
    assert "activity" not in body["error"]
    assert api.session_count() == 0


def test_an_unknown_activity_is_404_naming_it(api):
    response = api.post({"group_id": 1, "study_activity_id": 42})

    assert_error(response, 404, "not_found", "Study activity 42 does not exist.")
    assert api.session_count() == 0


def test_both_unknown_are_named_together(api):
    response = api.post({"group_id": 7, "study_activity_id": 8})

    assert_error(
        response, 404, "not_found", "Group 7 does not exist.", "Study activity 8 does not exist."
    )
    assert api.session_count() == 0


def test_a_group_added_after_a_miss_works_once_the_miss_expires(api, monkeypatch):
    references = api.services().cache
    now = references._clock()
    assert api.post({"group_id": 3, "study_activity_id": 1}).status_code == 404
    api.put_reference("groups", {"id": 3, "name": "Core Nouns"})
    assert api.post({"group_id": 3, "study_activity_id": 1}).status_code == 404  # miss cached

    monkeypatch.setattr(references, "_clock", lambda: now + DEFAULT_MISS_TTL_SECONDS + 0.1)
    response = api.post({"group_id": 3, "study_activity_id": 1})

    assert response.status_code == 201
    assert response.json_body["group_name"] == "Core Nouns"


def test_a_body_over_16_kib_is_413_and_writes_nothing(api):
    body = json.dumps({"group_id": 1, "study_activity_id": 1}) + " " * 16384

    assert_error(api.post(body), 413, "payload_too_large", "16 KiB")
    assert api.session_count() == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_non_json_content_type_is_415_and_writes_nothing(api, content_type):
    response = api.post(
        {"group_id": 1, "study_activity_id": 1}, headers={"Content-Type": content_type}
    )

    assert_error(response, 415, "unsupported_media_type", "application/json")
    assert api.session_count() == 0


def test_a_wrong_method_is_405_json_with_allow(api):
    response = api.http.put("/api/study-sessions", headers={}, body="{}")

    assert_error(response, 405, "method_not_allowed", "PUT is not allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}


def test_errors_carry_cors_headers_so_browsers_can_read_them(api):
    response = api.post({"group_id": 1})

    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "*"
