"""The lang-portal frontend's contract: its shapes, page numbers and Launch path; on moto and
DynamoDB Local."""
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import CREATED_KEYS, DynamoDBCalls, assert_error, session_page, without_session_id

START = datetime(2026, 11, 1, tzinfo=UTC)
TYPING_TUTOR = {"id": 1, "title": "Typing Tutor", "launch_url": "http://localhost:8080",
                "preview_url": "/assets/study_activities/typing-tutor.png"}
GROUPS = [{"id": 1, "name": "Core Verbs"}, {"id": 2, "name": "Core Adjectives"}]


def create(api, minutes, group_id=1, activity_id=1):
    moment = (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = api.post({"group_id": group_id, "study_activity_id": activity_id, "created_at": moment})
    assert response.status_code == 201
    return without_session_id(response.json_body)


def test_study_activities_are_a_bare_array_by_id(api):
    api.put_reference("study_activities", {"id": 3, "name": "Flashcards", "url": "http://localhost:8081"})
    api.put_reference("study_activities", {"id": 2, "name": "Listening", "url": "http://localhost:8082"})
    api.restart()

    response = api.get("/api/study-activities?limit=1&sort_by=name")

    assert response.status_code == 200
    assert [a["id"] for a in response.json_body] == [1, 2, 3]
    assert response.json_body[0] == TYPING_TUTOR


def test_the_launch_page_gets_the_activity_and_the_groups(api):
    response = api.get("/api/study-activities/1/launch")

    assert response.status_code == 200
    assert response.json_body == {"activity": TYPING_TUTOR, "groups": GROUPS}


@pytest.mark.parametrize("path", ["/api/study-activities/9/launch", "/api/study-activities/9/sessions"])
def test_an_unknown_activity_is_404(api, path):
    assert_error(api.get(path), 404, "not_found", "Study activity 9 does not exist.")


def test_an_activity_s_sessions_come_in_numbered_pages_by_default(api):
    created = [create(api, minutes=i) for i in range(3)]

    response = api.get("/api/study-activities/1/sessions")

    assert response.json_body == {"items": list(reversed(created)), "total": 3, "page": 1,
                                  "per_page": 10, "total_pages": 1}


@pytest.mark.parametrize("path", ["/api/study-sessions", "/api/groups/1/study-sessions",
                                  "/api/study-activities/1/sessions",
                                  "/api/study-activities/1/study-sessions"])
def test_25_sessions_in_pages_of_10_newest_first_with_none_missed_or_repeated(api, path):
    created = [create(api, minutes=i) for i in range(25)]
    create(api, minutes=30, group_id=2, activity_id=1)  # another group: only the group's list skips it
    expected = list(reversed(created))
    if path != "/api/groups/1/study-sessions":
        expected = [api.get("/api/study-sessions?limit=1").json_body["items"][0], *expected]
    api.count_history()

    pages = [api.get(f"{path}?page={page}&per_page=10").json_body for page in (1, 2, 3, 4)]

    total = len(expected)
    for number, page in enumerate(pages, start=1):
        assert {k: v for k, v in page.items() if k != "items"} == {
            "total": total, "page": number, "per_page": 10, "total_pages": 3}
    assert [len(page["items"]) for page in pages] == [10, 10, total - 20, 0]
    assert [s for page in pages for s in page["items"]] == expected


def test_page_alone_uses_10_a_page_as_the_frontend_expects(api):
    for i in range(12):
        create(api, minutes=i)
    api.count_history()

    body = api.get("/api/study-sessions?page=2&sort_by=created_at&order=desc").json_body

    assert (len(body["items"]), body["per_page"], body["total_pages"]) == (2, 10, 2)


def test_a_numbered_page_s_total_is_the_counted_one_and_a_short_list_is_exact_at_once(api):
    for i in range(12):
        create(api, minutes=i)
    api.count_history()
    latest = create(api, minutes=20)  # not counted yet: the consumer trails a write by about a second

    first = api.get("/api/study-sessions?page=1&per_page=10").json_body
    short = api.get("/api/groups/2/study-sessions?page=1&per_page=10").json_body
    api.count_history()
    counted = api.get("/api/study-sessions?page=1&per_page=10").json_body

    assert (first["items"][0]["id"], first["total"], first["total_pages"]) == (latest["id"], 12, 2)
    assert (short["items"], short["total"]) == ([], 0)
    assert (counted["items"][0]["id"], counted["total"], counted["total_pages"]) == (latest["id"], 13, 2)


def test_the_last_page_is_read_from_the_oldest_end(api):
    created = [create(api, minutes=i) for i in range(23)]
    api.count_history()

    with DynamoDBCalls(api.dynamodb) as calls:
        last = api.get("/api/study-activities/1/sessions?page=3&per_page=10").json_body

    assert [s["id"] for s in last["items"]] == [s["id"] for s in reversed(created[:3])]
    assert (last["total"], last["total_pages"]) == (23, 3)
    assert calls.operations == ["GetItem", "Query", "BatchGetItem"]


def test_without_page_numbers_a_list_keeps_its_cursor_shape(api):
    create(api, minutes=0)

    assert set(api.get("/api/study-sessions").json_body) == {"items", "next_cursor"}
    assert set(api.get("/api/study-activities/1/study-sessions").json_body) == {"items", "next_cursor"}


@pytest.mark.parametrize(
    "query, phrase",
    [("page=0", "page must be an integer"), ("page=abc", "page must be an integer"),
     ("per_page=101", "per_page must be an integer from 1 to 100"), ("per_page=0", "per_page"),
     ("page=1&limit=5", "not both"), ("per_page=5&cursor=abc", "not both")],
)
@pytest.mark.parametrize("path", ["/api/study-sessions", "/api/study-activities/1/sessions"])
def test_bad_page_numbers_are_400(api, path, query, phrase):
    assert_error(api.get(f"{path}?{query}"), 400, "validation_error", phrase)


def test_the_session_page_has_the_session_and_its_words(api):
    created = create(api, minutes=0)

    response = api.get(f"/api/study-sessions/{created['id']}?page=1&per_page=5")

    assert response.json_body == session_page(created, per_page=5)


def test_launch_now_posts_to_study_sessions_and_reads_session_id(api):
    response = api.post({"group_id": 2, "study_activity_id": 1}, path="/study_sessions")

    assert response.status_code == 201
    assert set(response.json_body) == CREATED_KEYS
    session_id = response.json_body["session_id"]
    assert session_id == response.json_body["id"]
    assert response.headers["Location"] == f"/api/study-sessions/{session_id}"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert api.get(f"/api/study-sessions/{session_id}").json_body["session"]["group_name"] == (
        "Core Adjectives")


def test_the_launch_path_validates_and_replays_like_the_api_path(api):
    assert_error(api.post({"group_id": 1}, path="/study_sessions"), 400, "validation_error",
                 "study_activity_id")
    assert_error(api.post({"group_id": 8, "study_activity_id": 1}, path="/study_sessions"), 404,
                 "not_found", "Group 8")
    key = {"Idempotency-Key": "launch-1"}
    first = api.post({"group_id": 1, "study_activity_id": 1}, headers=key, path="/study_sessions")
    again = api.post({"group_id": 1, "study_activity_id": 1}, headers=key)

    assert again.json_body == first.json_body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.session_count() == 1
