"""Word reviews: the words of a group, a review per answer, and a session whose counts and end
time follow its stored reviews exactly; on moto and DynamoDB Local."""
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import DynamoDBCalls, assert_error, reference_memories

T0 = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture
def session(api):
    response = api.post({"group_id": 1, "study_activity_id": 1, "created_at": T0.strftime(STAMP)})
    assert response.status_code == 201
    return response.json_body


def at(api, monkeypatch, moment):
    monkeypatch.setattr(api.services().reviews, "_clock", lambda: moment)


def review(api, session_id, word_id, correct, headers=None, in_path=False):
    if in_path:
        return api.post({"correct": correct}, headers=headers,
                        path=f"/api/study-sessions/{session_id}/words/{word_id}/review")
    return api.post({"word_id": word_id, "correct": correct}, headers=headers,
                    path=f"/api/study-sessions/{session_id}/review")


def stored_reviews(api, session_id):
    pages = api.dynamodb.get_paginator("scan").paginate(
        TableName=api.names["word_reviews"], ConsistentRead=True)
    return [item for page in pages for item in page["Items"]
            if item["study_session_id"]["S"] == session_id]


def assert_counts_match_stored_reviews(api, session_id):
    """review_items_count and every word's counts equal what the stored reviews say."""
    reviews = stored_reviews(api, session_id)
    page = api.get(f"/api/study-sessions/{session_id}?per_page=100").json_body
    assert page["session"]["review_items_count"] == len(reviews)
    expected = {}
    for item in reviews:
        counts = expected.setdefault(int(item["word_id"]["N"]), [0, 0])
        counts[0 if item["correct"]["BOOL"] else 1] += 1
    assert {w["id"]: [w["correct_count"], w["wrong_count"]] for w in page["words"]} == expected
    latest = max([item["created_at"]["S"] for item in reviews], default=None)
    assert page["session"]["end_time"] == max(page["session"]["start_time"], latest or "")
    return page


def test_a_group_lists_its_words(api):
    body = api.get("/api/groups/1/words").json_body

    assert [w["id"] for w in body["items"]] == list(range(1, 11))
    assert body["items"][0] == {"id": 1, "kanji": "食べる", "romaji": "taberu", "english": "to eat"}
    assert body["next_cursor"] is None
    assert [w["id"] for w in api.get("/api/groups/2/words").json_body["items"]] == list(range(11, 21))


def test_a_group_s_words_page_with_a_cursor(api):
    first = api.get("/api/groups/2/words?limit=6").json_body
    second = api.get(f"/api/groups/2/words?limit=6&cursor={first['next_cursor']}").json_body

    assert [w["id"] for w in first["items"] + second["items"]] == list(range(11, 21))
    assert second["next_cursor"] is None


def test_words_of_an_unknown_group_are_404(api):
    assert_error(api.get("/api/groups/9/words"), 404, "not_found", "Group 9 does not exist.")


@pytest.mark.parametrize("in_path", [False, True], ids=["body", "path"])
def test_a_review_is_201_and_the_session_follows_it(api, session, monkeypatch, in_path):
    at(api, monkeypatch, T0 + timedelta(minutes=3))

    response = review(api, session["id"], 4, True, in_path=in_path)

    assert response.status_code == 201
    assert response.json_body == {"id": response.json_body["id"], "study_session_id": session["id"],
                                  "word_id": 4, "correct": True, "created_at": "2026-11-27T10:03:00Z",
                                  "memory": reference_memories([("2026-11-27T10:03:00Z", True)])[0]}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    page = assert_counts_match_stored_reviews(api, session["id"])
    assert page["session"]["review_items_count"] == 1
    assert page["session"]["end_time"] == "2026-11-27T10:03:00Z"
    assert page["words"] == [{"id": 4, "kanji": "来る", "romaji": "kuru", "english": "to come",
                              "correct_count": 1, "wrong_count": 0}]


def test_counts_per_word_and_pages_of_words(api, session, monkeypatch):
    for minute, (word_id, correct) in enumerate([(2, True), (2, False), (2, True), (7, False), (1, True)]):
        at(api, monkeypatch, T0 + timedelta(minutes=minute + 1))
        assert review(api, session["id"], word_id, correct).status_code == 201

    page = assert_counts_match_stored_reviews(api, session["id"])
    second = api.get(f"/api/study-sessions/{session['id']}?page=2&per_page=2").json_body

    assert [(w["id"], w["correct_count"], w["wrong_count"]) for w in page["words"]] == [
        (1, 1, 0), (2, 2, 1), (7, 0, 1)]
    assert (second["total"], second["total_pages"], [w["id"] for w in second["words"]]) == (3, 2, [7])
    listed = api.get("/api/study-sessions").json_body["items"][0]
    assert (listed["review_items_count"], listed["end_time"]) == (5, "2026-11-27T10:05:00Z")


def test_end_time_never_moves_backwards(api, session, monkeypatch):
    api.get("/api/groups/1/words")  # the words are cached: each call below is the review's own
    at(api, monkeypatch, T0 + timedelta(minutes=9))
    review(api, session["id"], 1, True)
    at(api, monkeypatch, T0 + timedelta(minutes=4))  # a review that commits after a later one

    with DynamoDBCalls(api.dynamodb) as calls:
        response = review(api, session["id"], 2, False)

    assert response.status_code == 201
    assert calls.operations == ["BatchGetItem", "TransactWriteItems"]  # the session is the consumer's
    page = assert_counts_match_stored_reviews(api, session["id"])
    assert (page["session"]["review_items_count"], page["session"]["end_time"]) == (
        2, "2026-11-27T10:09:00Z")


def test_a_review_without_its_time_is_never_before_its_session_s_start(api, monkeypatch):
    at(api, monkeypatch, T0)
    ahead = api.post({"group_id": 1, "study_activity_id": 1,
                      "created_at": (T0 + timedelta(minutes=4)).strftime(STAMP)}).json_body

    answered = review(api, ahead["id"], 1, True)
    round_ = api.post({"reviews": [{"word_id": 3, "is_correct": True}]},
                      path=f"/study_sessions/{ahead['id']}/review")

    assert answered.status_code == round_.status_code == 201
    start = "2026-11-27T10:04:00Z"  # the session's: the server's clock said 10:00
    assert answered.json_body["created_at"] == round_.json_body["reviews"][0]["created_at"] == start
    assert {item["created_at"]["S"] for item in stored_reviews(api, ahead["id"])} == {start}

    page = assert_counts_match_stored_reviews(api, ahead["id"])
    assert page["session"]["end_time"] == page["session"]["start_time"] == "2026-11-27T10:04:00Z"
    at(api, monkeypatch, T0 + timedelta(minutes=6))
    assert review(api, ahead["id"], 2, False).status_code == 201
    page = assert_counts_match_stored_reviews(api, ahead["id"])
    assert (page["session"]["review_items_count"], page["session"]["end_time"]) == (
        3, "2026-11-27T10:06:00Z")


@pytest.mark.parametrize("in_path", [False, True])
def test_a_word_of_another_group_is_422_naming_it_and_counts_nothing(api, session, in_path):
    response = review(api, session["id"], 15, True, in_path=in_path)  # an adjective, group 2

    assert_error(response, 422, "word_not_in_group",
                 "Word 15 is not in group 1, the group of this study session.")
    assert stored_reviews(api, session["id"]) == []
    assert assert_counts_match_stored_reviews(api, session["id"])["session"]["review_items_count"] == 0


def test_a_review_of_an_uncached_word_reads_it_first(api, session):
    with DynamoDBCalls(api.dynamodb) as calls:
        assert review(api, session["id"], 3, True).status_code == 201

    assert calls.operations == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]


def test_a_review_is_its_words_memory_read_and_one_transaction_once_the_word_is_cached(api, session):
    api.get("/api/groups/1/words")  # what an activity reads first

    with DynamoDBCalls(api.dynamodb) as calls:
        assert review(api, session["id"], 3, True).status_code == 201

    assert calls.operations == ["BatchGetItem", "TransactWriteItems"]
    # the session with the word's memory; the review and the word's memory
    assert calls.tables == [("BatchGetItem", [api.names["study_sessions"], api.names["memories"]]),
                            ("PutItem", [api.names["word_reviews"]]), ("PutItem", [api.names["memories"]])]


@pytest.mark.parametrize(
    "body, phrases",
    [
        ("{oops", ["not valid JSON"]),
        ('{"word_id": 1, "word_id": 2, "correct": true}', ['The member "word_id" appears more than once']),
        ([1], ["must be a JSON object"]),
        ({}, ["Missing required field(s): word_id, correct."]),
        ({"word_id": 1}, ["Missing required field(s): correct."]),
        ({"word_id": 1, "correct": True, "note": "x"}, ["Unknown field(s): note"]),
        ({"word_id": 1, "correct": 1}, ["correct must be true or false."]),
        ({"word_id": 1, "correct": "true"}, ["correct must be true or false."]),
        ({"word_id": 1, "correct": None}, ["correct must be true or false."]),
        ({"word_id": "1", "correct": True}, ["word_id must be an integer"]),
        ({"word_id": 0, "correct": True}, ["word_id must be an integer"]),
        ({"word_id": 2**53, "correct": True}, ["word_id must be an integer"]),
        ({"word_id": True, "correct": True}, ["word_id must be an integer"]),
    ],
)
def test_invalid_reviews_are_400_and_write_nothing(api, session, body, phrases):
    response = api.post(body, path=f"/api/study-sessions/{session['id']}/review")

    assert_error(response, 400, "validation_error", *phrases)
    assert stored_reviews(api, session["id"]) == []


@pytest.mark.parametrize(
    "body, word_id, phrase",
    [({"correct": True}, "abc", "word id must be an integer"), ({"correct": True}, "0", "word id"),
     ({"correct": True, "word_id": 1}, "1", "Unknown field(s): word_id"),
     ({"correct": "yes"}, "1", "correct must be true or false.")],
)
def test_invalid_reviews_with_the_word_in_the_path_are_400(api, session, body, word_id, phrase):
    response = api.post(body, path=f"/api/study-sessions/{session['id']}/words/{word_id}/review")

    assert_error(response, 400, "validation_error", phrase)
    assert stored_reviews(api, session["id"]) == []


def test_review_bodies_must_be_json_and_small(api, session):
    path = f"/api/study-sessions/{session['id']}/review"
    assert_error(api.post({"word_id": 1, "correct": True}, path=path,
                          headers={"Content-Type": "text/plain"}), 415, "unsupported_media_type")
    assert_error(api.post('{"word_id": 1, "correct": true}' + " " * 16384, path=path), 413,
                 "payload_too_large")
    assert stored_reviews(api, session["id"]) == []


@pytest.mark.parametrize(
    "session_id, word_id, phrases",
    [("3f0c5a2e-8d8e-4c43-9f4c-7a1b2c3d4e5f", 1, ["This study session does not exist."]),
     (None, 99, ["Word 99 does not exist."]),
     ("3f0c5a2e-8d8e-4c43-9f4c-7a1b2c3d4e5f", 99, ["This study session does not exist.",
                                                  "Word 99 does not exist."]),
     ("x" * 65, 1, ["This study session does not exist."])],
)
def test_a_review_of_what_does_not_exist_is_404_naming_it(api, session, session_id, word_id, phrases):
    response = review(api, session_id or session["id"], word_id, True)

    assert_error(response, 404, "not_found", *phrases)
    assert api.dynamodb.scan(TableName=api.names["word_reviews"])["Items"] == []
    assert_counts_match_stored_reviews(api, session["id"])


def test_a_repeated_key_replays_the_review_and_counts_it_once(api, session):
    key = {"Idempotency-Key": "answer-1"}
    first = review(api, session["id"], 5, True, headers=key)
    again = review(api, session["id"], 5, True, headers=key, in_path=True)

    assert first.status_code == again.status_code == 201
    assert again.json_body == first.json_body
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    page = assert_counts_match_stored_reviews(api, session["id"])
    assert page["session"]["review_items_count"] == 1


def test_a_repeated_key_with_another_answer_is_422_and_counts_nothing(api, session):
    review(api, session["id"], 5, True, headers={"Idempotency-Key": "answer-2"})

    response = review(api, session["id"], 5, False, headers={"Idempotency-Key": "answer-2"})

    assert_error(response, 422, "idempotency_key_reused", "different payload")
    assert assert_counts_match_stored_reviews(api, session["id"])["session"]["review_items_count"] == 1


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException",
                                  "InternalServerError"])
def test_a_failed_review_write_is_503_and_leaves_counts_equal_to_the_reviews(api, session, code):
    from tests.test_faults import inject_error

    review(api, session["id"], 1, True)
    inject_error(api.dynamodb, "TransactWriteItems", code)

    response = review(api, session["id"], 2, True)

    assert_error(response, 503, "unavailable")
    assert response.headers["Retry-After"] == "1"
    api.dynamodb.meta.events.unregister("before-call.dynamodb.TransactWriteItems")
    page = assert_counts_match_stored_reviews(api, session["id"])
    assert page["session"]["review_items_count"] == 1
