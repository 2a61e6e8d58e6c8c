"""The lang-portal's words and groups pages: shapes, every sort key both ways, ties, the last
page and past it, bad parameters and unknown ids; on moto and DynamoDB Local."""
import pytest

from devtools.provision import GROUPS, WORDS
from tests.helpers import assert_error

GROUP_NAMES = {group["id"]: group["name"] for group in GROUPS}
REVIEWS = {1: [True, True, False], 2: [False], 5: [True] * 3, 11: [True, False], 12: [False, False]}


@pytest.fixture
def reviewed(api):
    """Reviews of five words in two sessions (one per group), counted as the consumer would."""
    sessions = {group: api.post({"group_id": group, "study_activity_id": 1}).json_body for group in (1, 2)}
    for word, answers in REVIEWS.items():
        session = sessions[1 if word <= 10 else 2]
        for correct in answers:
            response = api.post({"word_id": word, "correct": correct},
                                path=f"/api/study-sessions/{session['id']}/review")
            assert response.status_code == 201
    api.count_history()
    return sessions


def expected_word(word):
    answers = REVIEWS.get(word["id"], [])
    return {"id": word["id"], "kanji": word["kanji"], "romaji": word["romaji"], "english": word["english"],
            "correct_count": answers.count(True), "wrong_count": answers.count(False),
            "groups": [{"id": g, "name": GROUP_NAMES[g]} for g in word["group_ids"]]}


def all_pages(api, path):
    pages, number = [], 1
    while True:
        body = api.get(f"{path}{'&' if '?' in path else '?'}page={number}").json_body
        pages.append(body)
        if number >= body["total_pages"]:
            return pages
        number += 1


@pytest.mark.parametrize("sort_by", ["kanji", "romaji", "english", "correct_count", "wrong_count"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_words_sorted_by_each_key_both_ways_ties_by_id_never_overlap(api, reviewed, sort_by, order):
    pages = all_pages(api, f"/words?sort_by={sort_by}&order={order}")

    expected = sorted((expected_word(w) for w in WORDS), key=lambda w: (w[sort_by], w["id"]),
                      reverse=order == "desc")
    assert [w for page in pages for w in page["words"]] == expected
    assert [(p["current_page"], p["total_pages"], p["total_words"], len(p["words"])) for p in pages] == [
        (1, 2, 20, 10), (2, 2, 20, 10)]


def test_the_words_page_the_frontend_asks_for_and_a_page_past_the_end(api, reviewed):
    first = api.get("/words?page=1&sort_by=kanji&order=asc").json_body
    past = api.get("/words?page=3&sort_by=kanji&order=asc").json_body

    assert first["words"][0] == expected_word(min(WORDS, key=lambda w: (w["kanji"], w["id"])))
    assert (past["words"], past["total_pages"], past["current_page"], past["total_words"]) == ([], 2, 3, 20)


@pytest.mark.parametrize("query, phrase", [
    ("page=0", "page must be an integer"), ("page=x", "page must be an integer"),
    ("sort_by=level", "sort_by must be one of kanji, romaji, english, correct_count, wrong_count"),
    ("order=up", "order must be asc or desc"),
])
def test_bad_page_sort_or_order_is_400_naming_the_parameter(api, query, phrase):
    for path in ("/words", "/groups/1/words"):
        assert_error(api.get(f"{path}?{query}"), 400, "validation_error", phrase)


def test_a_word_with_its_counts_and_groups_and_404_for_unknown_ids(api, reviewed):
    assert api.get("/words/1").json_body == {"word": expected_word(WORDS[0])}
    for word_id in ("99", "abc", "0"):
        assert_error(api.get(f"/words/{word_id}"), 404, "not_found", f"Word {word_id} does not exist.")


@pytest.mark.parametrize("sort_by, order, names", [
    ("name", "asc", ["Core Adjectives", "Core Verbs"]), ("name", "desc", ["Core Verbs", "Core Adjectives"]),
    ("word_count", "asc", ["Core Verbs", "Core Adjectives"]),  # 10 each: by id
    ("word_count", "desc", ["Core Adjectives", "Core Verbs"]),
])
def test_groups_sorted_with_their_word_counts(api, sort_by, order, names):
    body = api.get(f"/groups?page=1&sort_by={sort_by}&order={order}").json_body

    assert [g["group_name"] for g in body["groups"]] == names
    assert {g["id"]: g["word_count"] for g in body["groups"]} == {1: 10, 2: 10}
    assert (body["total_pages"], body["current_page"]) == (1, 1)


def test_a_group_and_its_words_and_404_for_unknown_ids(api, reviewed):
    assert api.get("/groups/2").json_body == {"id": 2, "group_name": "Core Adjectives", "word_count": 10}
    words = api.get("/groups/2/words?page=1&sort_by=correct_count&order=desc").json_body
    assert [w["id"] for w in words["words"]] == [11, 20, 19, 18, 17, 16, 15, 14, 13, 12]  # ties: id, reversed
    assert (words["total_pages"], words["current_page"]) == (1, 1)
    for path in ("/groups/9", "/groups/x", "/groups/9/words", "/groups/9/study_sessions"):
        assert_error(api.get(path), 404, "not_found")


def test_a_group_s_sessions_newest_first_as_the_page_asks_and_by_any_key(api):
    created = [api.post({"group_id": 1, "study_activity_id": 1,
                         "created_at": f"2026-11-{10 + n:02d}T08:00:00Z"}).json_body for n in range(12)]
    api.post({"group_id": 2, "study_activity_id": 1})
    api.count_history()

    newest = all_pages(api, "/groups/1/study_sessions?sort_by=startTime&order=desc")
    by_id = all_pages(api, "/groups/1/study_sessions?sort_by=id&order=asc")
    oldest = api.get("/groups/1/study_sessions?page=1&sort_by=start_time&order=asc").json_body

    shown = [s for page in newest for s in page["study_sessions"]]
    assert [s["id"] for s in shown] == [s["id"] for s in reversed(created)]
    assert set(shown[0]) == {"id", "group_id", "group_name", "activity_id", "activity_name", "start_time",
                             "end_time", "review_items_count"}
    assert [(p["current_page"], p["total_pages"]) for p in newest] == [(1, 2), (2, 2)]
    assert [s["id"] for page in by_id for s in page["study_sessions"]] == sorted(s["id"] for s in created)
    assert [s["id"] for s in oldest["study_sessions"]] == [s["id"] for s in created[:10]]
    assert_error(api.get("/groups/1/study_sessions?sort_by=startDate"), 400, "validation_error", "sort_by")


def test_a_word_page_reads_that_word_s_counts_only(api, reviewed):
    from tests.helpers import DynamoDBCalls

    api.get("/words/1")  # the word and the groups cached
    with DynamoDBCalls(api.dynamodb) as calls:
        assert api.get("/words/1").json_body == {"word": expected_word(WORDS[0])}

    assert calls.operations == ["GetItem"]


@pytest.fixture
def long_group(api):
    """130 sessions of group 1, a day apart, of two activities, counted."""
    api.put_reference("study_activities", {"id": 2, "name": "Flashcards", "url": "http://localhost:8081",
                                           "preview_url": "/assets/study_activities/flashcards.png"})
    created = [api.post({"group_id": 1, "study_activity_id": 1 + n % 2,
                         "created_at": f"2026-{1 + n // 28:02d}-{1 + n % 28:02d}T08:00:00Z"}).json_body
               for n in range(130)]
    api.count_history()
    api.get("/groups/1/study_sessions")  # groups, words and activities cached, as after the first page
    return created


@pytest.mark.parametrize("order, page, expected", [
    ("desc", 1, lambda c: c[::-1][:10]), ("asc", 1, lambda c: c[:10]),
    ("asc", 13, lambda c: c[120:]), ("desc", 7, lambda c: c[::-1][60:70])])
def test_a_group_s_sessions_by_start_time_either_way_read_one_page(api, long_group, order, page, expected):
    from tests.helpers import DynamoDBCalls

    with DynamoDBCalls(api.dynamodb) as calls:
        body = api.get(f"/groups/1/study_sessions?page={page}&sort_by=start_time&order={order}").json_body

    assert [s["id"] for s in body["study_sessions"]] == [s["id"] for s in expected(long_group)]
    assert (body["current_page"], body["total_pages"]) == (page, 13)
    assert calls.operations == ["GetItem", "Query", "BatchGetItem"]  # the total, ten keys, ten sessions


def test_a_group_s_sessions_in_another_order_are_its_newest_100_sorted(api, long_group):
    from tests.helpers import DynamoDBCalls

    keys = []
    api.dynamodb.meta.events.register(
        "before-parameter-build.dynamodb.BatchGetItem",
        lambda params, **_: keys.extend(k for t in params["RequestItems"].values() for k in t["Keys"]))
    with DynamoDBCalls(api.dynamodb) as calls:
        pages = [api.get(f"/groups/1/study_sessions?page={n}&sort_by=activity_name&order=asc").json_body
                 for n in (1, 10, 11)]

    newest = long_group[30:]
    by_activity = sorted(newest, key=lambda s: (s["activity_name"], s["id"]))
    assert [s["id"] for s in pages[0]["study_sessions"]] == [s["id"] for s in by_activity[:10]]
    assert [s["id"] for s in pages[1]["study_sessions"]] == [s["id"] for s in by_activity[90:]]
    assert pages[2]["study_sessions"] == []
    assert {p["total_pages"] for p in pages} == {10}
    assert calls.operations == ["Query", "BatchGetItem"] * 3 and len(keys) == 300
