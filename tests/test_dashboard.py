"""The lang-portal's dashboard: its two calls, every figure pinned on known data, on moto and
DynamoDB Local (the aggregates recounted as the stream consumer would have counted them)."""
import json
from datetime import UTC, datetime

import pytest

NOW = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def dashboard_at(api, monkeypatch):
    """The app's clock set to NOW, before the dashboard is built."""
    api.restart(clock=lambda: NOW)
    return api


def create(api, at, group_id=1):
    response = api.post({"group_id": group_id, "study_activity_id": 1, "created_at": at})
    assert response.status_code == 201, response.body
    return response.json_body


def review(api, session, word_id, correct):
    response = api.post({"word_id": word_id, "correct": correct},
                        path=f"/api/study-sessions/{session['id']}/review")
    assert response.status_code == 201, response.body


def stats(api):
    api.count_history()
    response = api.get("/dashboard/stats")
    assert response.status_code == 200
    return response.json_body


def test_before_any_session_the_figures_are_zero_and_the_recent_session_is_null(dashboard_at):
    assert stats(dashboard_at) == {"total_vocabulary": 20, "total_words_studied": 0, "mastered_words": 0,
                                   "success_rate": 0, "total_sessions": 0, "active_groups": 0,
                                   "current_streak": 0, "words_due": 0}
    recent = dashboard_at.get("/dashboard/recent-session")
    assert (recent.status_code, recent.body, recent.headers["Content-Type"]) == (200, b"null",
                                                                                 "application/json")


def test_the_recent_session_is_the_newest_by_created_at_with_its_answers(dashboard_at):
    newest = create(dashboard_at, "2026-11-27T09:00:00Z", group_id=2)
    create(dashboard_at, "2026-11-26T09:00:00Z")  # created later, started earlier
    for word, correct in ((11, True), (12, True), (11, False)):
        review(dashboard_at, newest, word, correct)

    recent = dashboard_at.get("/dashboard/recent-session").json_body

    assert recent == {"id": newest["id"], "group_id": 2, "activity_name": "Typing Tutor",
                      "created_at": "2026-11-27T09:00:00Z", "correct_count": 2, "wrong_count": 1}


def test_words_studied_mastered_and_success_rate(dashboard_at):
    session = create(dashboard_at, "2026-11-27T08:00:00Z")
    answers = {1: [True] * 4 + [False],        # 5 reviews, 80 %: mastered
               2: [True] * 3 + [False] * 2,    # 5 reviews, 60 %
               3: [True] * 4,                  # 4 reviews: too few
               4: [True] * 8 + [False] * 2}    # 10 reviews, 80 %: mastered
    for word, results in answers.items():
        for correct in results:
            review(dashboard_at, session, word, correct)

    figures = stats(dashboard_at)

    assert (figures["total_words_studied"], figures["mastered_words"]) == (4, 2)
    assert figures["success_rate"] == round(19 / 24, 4)


@pytest.mark.parametrize("days, streak", [
    (["2026-11-25T23:59:59Z", "2026-11-26T00:00:00Z", "2026-11-27T09:00:00Z"], 3),  # across midnight
    (["2026-11-25T12:00:00Z", "2026-11-26T12:00:00Z"], 2),   # ends yesterday: today has none yet
    (["2026-11-24T12:00:00Z", "2026-11-26T12:00:00Z", "2026-11-27T01:00:00Z"], 2),  # a gap on the 25th
    (["2026-11-24T12:00:00Z", "2026-11-25T12:00:00Z"], 0),   # nothing yesterday or today
    (["2026-11-27T00:00:00Z", "2026-11-27T09:59:00Z"], 1),   # two sessions, one day
])
def test_the_streak_counts_utc_days_ending_today_or_yesterday(dashboard_at, days, streak):
    for at in days:
        create(dashboard_at, at)

    figures = stats(dashboard_at)

    assert (figures["current_streak"], figures["total_sessions"]) == (streak, len(days))


def test_active_groups_had_a_session_on_one_of_the_last_30_days(dashboard_at):
    create(dashboard_at, "2026-10-28T23:59:59Z", group_id=1)  # 30 days before today: not active
    create(dashboard_at, "2026-10-29T00:00:00Z", group_id=2)  # the 30th day, today included

    assert stats(dashboard_at)["active_groups"] == 1
    create(dashboard_at, "2026-11-27T09:00:00Z", group_id=1)
    assert stats(dashboard_at)["active_groups"] == 2


def test_the_dashboard_reads_three_small_items_and_the_due_words_whatever_the_history(dashboard_at):
    from tests.helpers import DynamoDBCalls

    create(dashboard_at, "2026-11-27T09:00:00Z")
    dashboard_at.count_history()
    dashboard_at.get("/dashboard/stats")  # the words' scan is cached

    with DynamoDBCalls(dashboard_at.dynamodb) as calls:
        body = json.loads(dashboard_at.get("/dashboard/stats").body)

    assert body["total_sessions"] == 1
    assert calls.operations == ["GetItem", "Query", "Query", "Query"]  # totals, groups, days, due
