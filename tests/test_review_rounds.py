"""POST /study_sessions/{id}/review, the frontend's submitStudySessionReview: a round of answers
recorded all or none, safe to send again; on moto and DynamoDB Local."""
import pytest

from chalicelib.storage.dynamo import to_item
from tests.helpers import DynamoDBCalls, assert_error

ROUND = {"reviews": [{"word_id": 1, "is_correct": True}, {"word_id": 2, "is_correct": False},
                     {"word_id": 1, "is_correct": True}]}


@pytest.fixture
def session(api):
    return api.post({"group_id": 1, "study_activity_id": 1}).json_body


def send(api, session, body, headers=None):
    return api.post(body, headers=headers, path=f"/study_sessions/{session['id']}/review")


def stored_reviews(api):
    return api.dynamodb.scan(TableName=api.names["word_reviews"], ConsistentRead=True)["Items"]


def counts(api, session):
    page = api.get(f"/api/study-sessions/{session['id']}?per_page=100").json_body
    return page["session"]["review_items_count"], {w["id"]: (w["correct_count"], w["wrong_count"])
                                                   for w in page["words"]}


def test_a_round_is_committed_by_one_transaction_and_counted_exactly(api, session):
    api.get("/api/groups/1/words")  # the words cached, as after the activity's first call
    with DynamoDBCalls(api.dynamodb) as calls:
        response = send(api, session, ROUND)

    assert response.status_code == 201, response.body
    body = response.json_body
    assert body["study_session_id"] == session["id"]
    assert [(r["word_id"], r["correct"]) for r in body["reviews"]] == [(1, True), (2, False), (1, True)]
    # the words' memory; the round committed on it; the reviews' own items
    assert calls.operations == ["BatchGetItem", "TransactWriteItems", "BatchWriteItem"]
    assert counts(api, session) == (3, {1: (2, 0), 2: (0, 1)})
    assert len(stored_reviews(api)) == 3


def test_the_same_round_sent_again_with_its_key_counts_once(api, session):
    first = send(api, session, ROUND, {"Idempotency-Key": "round-1"})

    again = send(api, session, ROUND, {"Idempotency-Key": "round-1"})

    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert again.json_body == first.json_body
    assert counts(api, session) == (3, {1: (2, 0), 2: (0, 1)})


def test_an_identical_round_without_a_key_is_a_new_round_and_counts(api, session):
    """A learner who drills the same words twice answers the same round twice: both count."""
    first = send(api, session, ROUND)

    again = send(api, session, ROUND)

    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, None)
    first_ids = {r["id"] for r in first.json_body["reviews"]}
    assert first_ids.isdisjoint(r["id"] for r in again.json_body["reviews"])
    assert counts(api, session) == (6, {1: (4, 0), 2: (0, 2)})
    assert len(stored_reviews(api)) == 6


def test_a_key_reused_for_another_round_is_422_and_counts_nothing(api, session):
    send(api, session, ROUND, {"Idempotency-Key": "round-2"})
    other = {"reviews": [{"word_id": 3, "is_correct": True}]}

    assert_error(send(api, session, other, {"Idempotency-Key": "round-2"}), 422, "idempotency_key_reused")
    assert counts(api, session) == (3, {1: (2, 0), 2: (0, 1)})


@pytest.mark.parametrize("body, phrase", [
    ({"reviews": []}, "reviews must hold 1 to 100 reviews (got 0)"),
    ({"reviews": [{"word_id": 1, "is_correct": True}] * 101}, "reviews must hold 1 to 100 reviews (got 101)"),
    ({"items": []}, 'The body must be a JSON object {"reviews"'),
    ({"reviews": [{"word_id": 1, "is_correct": True}, {"word_id": 2, "is_correct": "yes"}]},
     "reviews[1].is_correct must be true or false."),
    ({"reviews": [{"word_id": 0, "is_correct": True}]}, "reviews[0].word_id must be an integer"),
    ({"reviews": [{"word_id": 1}]}, "reviews[0]: missing field(s): is_correct."),
    ({"reviews": [{"word_id": 1, "is_correct": True, "at": 1}]}, "reviews[0]: unknown field(s): at."),
    ({"reviews": [7]}, "reviews[0] must be an object"),
])
def test_a_bad_round_is_400_naming_the_review_and_writes_nothing(api, session, body, phrase):
    assert_error(send(api, session, body), 400, "validation_error", phrase)
    assert stored_reviews(api) == []


def test_unknown_words_are_404_naming_each_and_an_unknown_session_404(api, session):
    body = {"reviews": [{"word_id": 1, "is_correct": True}, {"word_id": 99, "is_correct": True},
                        {"word_id": 98, "is_correct": False}]}

    assert_error(send(api, session, body), 404, "not_found",
                 "reviews[1]: Word 99 does not exist. reviews[2]: Word 98 does not exist.")
    assert_error(send(api, {"id": "3f0c5a2e-8d8e-4c43-9f4c-7a1b2c3d4e5f"}, ROUND), 404, "not_found",
                 "This study session does not exist.")
    assert stored_reviews(api) == []


def test_a_word_of_another_group_refuses_the_whole_round_naming_it(api, session):
    body = {"reviews": [{"word_id": 1, "is_correct": True}, {"word_id": 15, "is_correct": True}]}

    assert_error(send(api, session, body), 422, "word_not_in_group",
                 "reviews[1]: Word 15 is not in group 1, the group of this study session.")
    assert stored_reviews(api) == []
    assert counts(api, session) == (0, {})


def hundred_words(api) -> list:
    words = [{"id": 100 + n, "kanji": f"語{n}", "romaji": f"go{n}", "english": f"word {n}",
              "group_ids": [1]} for n in range(100)]
    for word in words:
        api.dynamodb.put_item(TableName=api.names["words"], Item=to_item(word))
    return [word["id"] for word in words]


@pytest.mark.parametrize("answers, words", [(100, 1), (100, 10), (100, 100)],
                         ids=["100 of one word", "100 of ten words", "100 of 100 words"])
def test_the_largest_rounds_are_recorded_whole_and_end_time_follows(api, session, answers, words):
    ids = hundred_words(api) if words == 100 else list(range(1, words + 1))
    body = {"reviews": [{"word_id": ids[n % words], "is_correct": n % 3 != 0} for n in range(answers)]}

    response = send(api, session, body)  # one transaction of a memory item a word

    assert response.status_code == 201, response.body
    assert len(stored_reviews(api)) == answers
    memories = api.dynamodb.scan(TableName=api.names["memories"])["Items"]
    assert sorted(int(item["word_id"]["N"]) for item in memories) == sorted(ids[:words])
    assert sum(int(item["applied"]["N"]) for item in memories) == answers
    total, per_word = counts(api, session)
    assert total == answers and sum(c + w for c, w in per_word.values()) == answers
    page = api.get(f"/api/study-sessions/{session['id']}").json_body
    assert page["session"]["end_time"] == max(r["created_at"] for r in response.json_body["reviews"])


def replay_order(api, word_id, owner="implicit#0"):
    """The ids of the owner's reviews of a word in the order the scheduler replays them."""
    pages = api.dynamodb.get_paginator("query").paginate(
        TableName=api.names["word_reviews"], IndexName="by_owner_word",
        KeyConditionExpression="owner_word = :word",
        ExpressionAttributeValues={":word": {"S": f"{owner}#word#{word_id}"}})
    return [item["id"]["S"] for page in pages for item in page["Items"]]


@pytest.mark.parametrize("keyed", [False, True], ids=["without key", "with key"])
def test_answers_of_one_word_in_a_round_replay_in_the_order_written(api, session, keyed):
    """A drill answers a word several times in one round, all in one millisecond: the replay
    takes them in the order written, round after round."""
    from tests.helpers import reference_memories
    from tests.test_scheduling import memory_item, memory_of

    pattern = [True, False, False, True, False, True]
    written = []
    for number in range(20):
        body = {"reviews": [{"word_id": 1, "is_correct": correct} for correct in pattern]}
        response = send(api, session, body, {"Idempotency-Key": f"drill-{number}"} if keyed else None)
        assert response.status_code == 201, response.body
        written += response.json_body["reviews"]

    assert replay_order(api, 1) == [review["id"] for review in written]
    want = reference_memories([(review["created_at"], review["correct"]) for review in written])[-1]
    assert memory_of(memory_item(api, 1)) == {n: want[n] for n in ("state", "stability", "difficulty", "due")}
