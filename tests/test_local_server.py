"""The real `chalice local` process on DynamoDB Local, over real HTTP."""
import requests

from tests.helpers import CREATED_KEYS


def test_a_session_is_created_over_http(local_server):
    before = local_server.session_count()

    response = requests.post(
        local_server.url("/api/study-sessions"), json={"group_id": 1, "study_activity_id": 1}, timeout=10
    )

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert set(response.json()) == CREATED_KEYS
    assert response.headers["Location"] == f"/api/study-sessions/{response.json()['id']}"
    assert local_server.session_count() == before + 1


def test_a_bad_request_is_refused_over_http_and_writes_nothing(local_server):
    before = local_server.session_count()

    response = requests.post(
        local_server.url("/api/study-sessions"), data=b"{oops", timeout=10,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json() == {"error": "The body is not valid JSON.", "code": "validation_error"}
    assert local_server.session_count() == before


def test_an_unknown_group_is_404_over_http(local_server):
    response = requests.post(
        local_server.url("/api/study-sessions"), json={"group_id": 77, "study_activity_id": 1}, timeout=10
    )

    assert response.status_code == 404
    assert response.json() == {"error": "Group 77 does not exist.", "code": "not_found"}


def test_a_text_plain_body_is_415_over_http(local_server):
    response = requests.post(
        local_server.url("/api/study-sessions"), data="group_id=1", timeout=10,
        headers={"Content-Type": "text/plain"},
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_wrong_method_is_405_json_over_http(local_server):
    response = requests.delete(local_server.url("/api/study-sessions"), timeout=10)

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_the_cors_preflight_allows_json_posts_with_an_idempotency_key(local_server):
    response = requests.options(
        local_server.url("/api/study-sessions"), timeout=10,
        headers={"Origin": "http://127.0.0.1:5173", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,idempotency-key"},
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower().split(",")
    assert {"content-type", "idempotency-key"} <= set(allowed)
