"""The read side: sessions by id and in lists, groups and activities; on moto and DynamoDB Local."""
import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import SESSION_KEYS, DynamoDBCalls, assert_error, session_page, without_session_id

START = datetime(2026, 11, 1, tzinfo=UTC)


def create(api, group_id=1, minutes=0, activity_id=1):
    moment = (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = api.post({"group_id": group_id, "study_activity_id": activity_id, "created_at": moment})
    assert response.status_code == 201
    return without_session_id(response.json_body)


def all_pages(api, path, limit):
    pages, cursor = [], None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(path + query)
        assert response.status_code == 200
        pages.append(response.json_body["items"])
        cursor = response.json_body["next_cursor"]
        if cursor is None:
            return pages


def test_a_session_reads_back_as_it_was_created(api):
    created = create(api)

    response = api.get(f"/api/study-sessions/{created['id']}")

    assert response.status_code == 200
    assert response.json_body == session_page(created)


@pytest.mark.parametrize("session_id", ["3f0c5a2e-8d8e-4c43-9f4c-7a1b2c3d4e5f", "x" * 65, "abc"])
def test_an_unknown_session_is_404(api, session_id):
    assert_error(api.get(f"/api/study-sessions/{session_id}"), 404, "not_found", "does not exist")


def test_45_sessions_come_in_3_pages_newest_first_with_none_missed_or_repeated(api):
    created = [create(api, minutes=i) for i in range(45)]

    pages = all_pages(api, "/api/study-sessions", 20)

    assert [len(page) for page in pages] == [20, 20, 5]
    listed = [session for page in pages for session in page]
    assert listed == list(reversed(created))


def test_a_page_that_ends_the_list_has_no_cursor(api):
    for i in range(3):
        create(api, minutes=i)

    response = api.get("/api/study-sessions?limit=3")

    assert len(response.json_body["items"]) == 3
    assert response.json_body["next_cursor"] is None


def test_the_list_defaults_to_20(api):
    for i in range(21):
        create(api, minutes=i)

    body = api.get("/api/study-sessions").json_body

    assert len(body["items"]) == 20 and body["next_cursor"]


def test_a_group_lists_only_its_own_sessions_newest_first(api):
    mine = [create(api, group_id=1, minutes=i) for i in range(0, 10, 2)]
    others = [create(api, group_id=2, minutes=i) for i in range(1, 10, 2)]

    pages = all_pages(api, "/api/groups/1/study-sessions", 2)

    assert [s for page in pages for s in page] == list(reversed(mine))
    assert [s["id"] for s in api.get("/api/groups/2/study-sessions").json_body["items"]] == [
        s["id"] for s in reversed(others)
    ]


def test_an_activity_lists_its_sessions_newest_first(api):
    api.put_reference("study_activities", {"id": 2, "name": "Flashcards"})
    typing = [create(api, minutes=i) for i in range(3)]
    create(api, minutes=10, activity_id=2)

    body = api.get("/api/study-activities/1/study-sessions").json_body

    assert body["items"] == list(reversed(typing))
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    "path", ["/api/groups/99/study-sessions", "/api/study-activities/99/study-sessions",
             "/api/groups/99", "/api/study-activities/99"]
)
def test_lists_and_items_of_unknown_groups_or_activities_are_404(api, path):
    assert_error(api.get(path), 404, "not_found", "99 does not exist")


@pytest.mark.parametrize(
    "path", ["/api/groups/abc/study-sessions", "/api/groups/0", "/api/study-activities/-1",
             "/api/study-activities/1.5/study-sessions"]
)
def test_ids_that_are_not_positive_integers_are_400(api, path):
    assert_error(api.get(path), 400, "validation_error", "must be an integer")


@pytest.mark.parametrize("limit", ["0", "101", "abc", ""])
def test_a_bad_limit_is_400(api, limit):
    assert_error(api.get(f"/api/study-sessions?limit={limit}"), 400, "validation_error", "limit")


def forged(payload):
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!",
        "e30",  # {}
        forged({"list": "newest:all", "after": ["2026-11-01T00:00:00Z"]}),
        forged({"list": "newest:all", "after": [1, 2]}),
        forged({"list": "newest:all", "after": ["", "x"]}),
        forged({"list": "by_group:1", "after": ["2026-11-01T00:00:00Z", "x"]}),
        forged([1, 2, 3]),
        "_" * 200,
    ],
)
def test_a_tampered_or_foreign_cursor_is_400(api, cursor):
    create(api)

    response = api.get(f"/api/study-sessions?cursor={cursor}")

    assert_error(response, 400, "validation_error", "cursor is not valid for this list")


@pytest.mark.parametrize("path", ["/api/study-sessions", "/api/groups", "/api/study-activities",
                                  "/api/groups/1/study-sessions"])
def test_an_empty_cursor_is_the_first_page(api, path):
    create(api)

    response = api.get(f"{path}?cursor=")

    assert response.status_code == 200
    assert response.json_body == api.get(path).json_body


def test_a_cursor_from_one_group_is_refused_for_another(api):
    for i in range(3):
        create(api, group_id=1, minutes=i)
    cursor = api.get("/api/groups/1/study-sessions?limit=1").json_body["next_cursor"]

    response = api.get(f"/api/groups/2/study-sessions?cursor={cursor}")

    assert_error(response, 400, "validation_error", "cursor")


def test_a_page_is_one_query_and_one_batch_get_of_live_sessions_with_no_scan(api):
    """The indexes hold keys only; one BatchGetItem reads the page's live sessions, and a cold
    container one more for the names."""
    for i in range(6):
        create(api, group_id=1 + i % 2, minutes=i)
    api.restart()

    with DynamoDBCalls(api.dynamodb) as cold:
        first = api.get("/api/study-sessions?limit=5")
    with DynamoDBCalls(api.dynamodb) as warm:
        again = api.get("/api/study-sessions?limit=5")

    assert len(first.json_body["items"]) == 5 and again.json_body == first.json_body
    assert cold.operations == ["Query", "BatchGetItem", "BatchGetItem"]
    assert warm.operations == ["Query", "BatchGetItem"]
    assert [tables for op, tables in warm.tables] == [[api.names["study_sessions"]]] * 2


def test_a_session_whose_group_was_removed_lists_with_a_null_name(api):
    created = create(api, group_id=2)
    api.dynamodb.delete_item(TableName=api.names["groups"], Key={"id": {"N": "2"}})
    api.restart()

    [listed] = api.get("/api/study-sessions").json_body["items"]

    assert listed == {**created, "group_name": None}
    assert set(listed) == SESSION_KEYS


def test_groups_list_by_id(api):
    response = api.get("/api/groups")

    assert response.status_code == 200
    assert response.json_body == {
        "items": [{"id": 1, "name": "Core Verbs"}, {"id": 2, "name": "Core Adjectives"}],
        "next_cursor": None,
    }


def test_groups_page_with_a_cursor(api):
    first = api.get("/api/groups?limit=1").json_body
    second = api.get(f"/api/groups?limit=1&cursor={first['next_cursor']}").json_body

    assert [g["id"] for g in first["items"] + second["items"]] == [1, 2]
    assert second["next_cursor"] is None


def test_one_group(api):
    assert api.get("/api/groups/2").json_body == {"id": 2, "name": "Core Adjectives"}


def test_activities_have_the_fields_the_frontend_reads(api):
    expected = {
        "id": 1, "title": "Typing Tutor", "launch_url": "http://localhost:8080",
        "preview_url": "/assets/study_activities/typing-tutor.png",
    }

    assert api.get("/api/study-activities").json_body == [expected]
    assert api.get("/api/study-activities/1").json_body == expected
