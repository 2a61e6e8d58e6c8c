"""A round is committed by one transaction of its words' memory items, which carry its reviews;
the reviews' own items follow. A crash between the two (injected here) loses nothing: the memory
items' stream records make the consumer write the missing reviews once, a keyed resend replays
the round instead of applying it again, a late review replays the carried answers, and a history
reset meanwhile stays forgotten. On DynamoDB Local, with its real streams."""
import threading
from datetime import timedelta

import pytest

from chalicelib.storage import review_repository
from chalicelib.storage.review_repository import ReviewRepository
from chalicelib.streams.aggregates import AggregateWriter, process
from chalicelib.streams.audit import memory_differences, unwritten_round_reviews
from tests.helpers import reference_memories, scan
from tests.test_aggregates import dynamodb, expected_aggregates, stored_aggregates, stream_records  # noqa: F401
from tests.test_scheduling import DAYS, T0, Clock, memory_item, review, stamp

STREAMS = ("study_sessions", "word_reviews", "memories")
ROUND = {"reviews": [{"word_id": 1, "is_correct": True, "reviewed_at": stamp(DAYS[2])},
                     {"word_id": 2, "is_correct": False, "reviewed_at": stamp(DAYS[2])},
                     {"word_id": 1, "is_correct": False, "reviewed_at": stamp(DAYS[3])}]}


class Crash(Exception):
    """The function dies after the round's commit, before its reviews' own items."""


def crash(self, reviews):
    raise Crash()


@pytest.fixture
def session(api):
    api.restart(clock=Clock(T0.replace(month=12)), resets=True)
    return api.post({"group_id": 1, "study_activity_id": 1, "created_at": stamp(T0)}).json_body


ONE_EACH = {"reviews": ROUND["reviews"][:2]}  # a word answered once: its copy is carried on


def send_round(api, session, headers=None, body=ROUND):
    return api.post(body, headers=headers, path=f"/study_sessions/{session['id']}/review")


def consume(api):
    """The consumer, over every record the streams' mappings hand on; its answer."""
    return process(stream_records(api, tables=STREAMS), api.names, AggregateWriter(api.dynamodb, api.names))


def committed_round(api, session, headers=None, body=ROUND) -> list:
    """A round cut short after its commit: its reviews as its memory items carry them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ReviewRepository, "_store_reviews", crash)
        response = send_round(api, session, headers, body)
    assert response.status_code == 500 and b"Crash" not in response.body
    assert scan(api, "word_reviews") == []
    carried = unwritten_round_reviews(api.dynamodb, api.names)
    assert len(carried) == len(body["reviews"]) and {r["word_id"] for r in carried} == {1, 2}
    return carried


def test_the_stream_writes_the_reviews_of_a_round_cut_short_once(api, session):
    carried = committed_round(api, session)

    assert consume(api) == {"batchItemFailures": []}

    stored = sorted(scan(api, "word_reviews"), key=lambda r: r["id"])
    assert stored == sorted(carried, key=lambda r: r["id"])
    assert unwritten_round_reviews(api.dynamodb, api.names) == []
    assert memory_differences(api.dynamodb, api.names) == []
    assert consume(api) == {"batchItemFailures": []}  # everything redelivered: nothing written twice
    assert len(scan(api, "word_reviews")) == 3
    assert stored_aggregates(api) == expected_aggregates(api)


def test_a_keyed_round_resent_after_its_commit_is_replayed_not_applied_again(api, session):
    carried = committed_round(api, session, {"Idempotency-Key": "round-9"})

    again = send_round(api, session, {"Idempotency-Key": "round-9"})

    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert sorted(r["id"] for r in again.json_body["reviews"]) == sorted(r["id"] for r in carried)
    assert (memory_item(api, 1)["applied"], memory_item(api, 2)["applied"]) == (2, 1)
    consume(api)
    assert len(scan(api, "word_reviews")) == 3
    assert memory_differences(api.dynamodb, api.names) == []


def test_a_late_review_after_a_round_cut_short_replays_the_answers_it_carries(api, session):
    committed_round(api, session)

    late = review(api, session["id"], 1, True, reviewed_at=DAYS[1])  # before the round's answers of word 1

    assert late.status_code == 201, late.body
    want = reference_memories([(stamp(DAYS[1]), True), (stamp(DAYS[2]), True), (stamp(DAYS[3]), False)])
    assert late.json_body["memory"] == want[0]
    assert memory_item(api, 1)["applied"] == 3
    consume(api)
    assert memory_differences(api.dynamodb, api.names) == []
    assert unwritten_round_reviews(api.dynamodb, api.names) == []


def test_a_round_cut_short_in_a_history_reset_since_is_not_written_back(api, session):
    committed_round(api, session)
    assert api.post({}, path="/api/study-sessions/reset").status_code == 200

    assert consume(api) == {"batchItemFailures": []}

    assert scan(api, "word_reviews") == []


def test_a_keyed_round_resent_after_every_word_was_reviewed_again_is_replayed(api, session):
    """Later writes of a word keep a round's copy of its answer for CARRY_SECONDS: the resend
    still finds the whole round."""
    committed_round(api, session, {"Idempotency-Key": "round-12"}, ONE_EACH)
    for word in (1, 2):
        assert review(api, session["id"], word, True, reviewed_at=DAYS[1]).status_code == 201  # late

    again = send_round(api, session, {"Idempotency-Key": "round-12"}, ONE_EACH)

    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert (memory_item(api, 1)["applied"], memory_item(api, 2)["applied"]) == (2, 2)
    consume(api)
    assert len(scan(api, "word_reviews")) == 4
    assert memory_differences(api.dynamodb, api.names) == []
    assert unwritten_round_reviews(api.dynamodb, api.names) == []


@pytest.fixture
def copies_not_kept(monkeypatch):
    """Past CARRY_SECONDS: a later write of a word no longer keeps a round's copies."""
    monkeypatch.setattr(review_repository, "CARRY_SECONDS", 0)


def test_a_keyed_round_resent_after_one_of_its_words_was_reviewed_again_is_replayed(api, session,
                                                                                     copies_not_kept):
    """The round was committed whole: a review since replaced one word's carried copy, and its
    stored reviews come from the consumer; the resend waits for them rather than refuse the key
    or apply the round again."""
    committed_round(api, session, {"Idempotency-Key": "round-10"})
    assert review(api, session["id"], 2, True, reviewed_at=DAYS[4]).status_code == 201  # word 2's copy gone
    waits = ReviewRepository.whole_round

    def consumer_catches_up(self, ids, found):  # on a thread of its own, as the consumer's own function
        consumer = threading.Thread(target=consume, args=(api,))
        consumer.start()
        consumer.join()
        return waits(self, ids, found)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ReviewRepository, "whole_round", consumer_catches_up)
        again = send_round(api, session, {"Idempotency-Key": "round-10"})

    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert len(again.json_body["reviews"]) == 3
    assert (memory_item(api, 1)["applied"], memory_item(api, 2)["applied"]) == (2, 2)
    assert memory_differences(api.dynamodb, api.names) == []


def test_while_the_consumer_is_behind_that_resend_is_503_not_422_nor_applied_again(
        api, session, copies_not_kept):
    committed_round(api, session, {"Idempotency-Key": "round-11"})
    assert review(api, session["id"], 2, True, reviewed_at=DAYS[4]).status_code == 201

    again = send_round(api, session, {"Idempotency-Key": "round-11"})

    assert again.status_code == 503 and again.json_body["code"] == "unavailable"
    assert (memory_item(api, 1)["applied"], memory_item(api, 2)["applied"]) == (2, 2)


def test_a_later_review_keeps_a_round_s_copy_within_the_window_only(api, session, monkeypatch):
    assert send_round(api, session, body=ONE_EACH).status_code == 201
    assert review(api, session["id"], 1, True, reviewed_at=DAYS[4]).status_code == 201
    assert len(memory_item(api, 1)["round_reviews"]) == 1  # the round's answer of word 1

    monkeypatch.setattr(review_repository, "CARRY_SECONDS", 0)
    assert review(api, session["id"], 1, False, reviewed_at=DAYS[4] + timedelta(hours=1)).status_code == 201

    assert "round_reviews" not in memory_item(api, 1) and "round_committed" not in memory_item(api, 1)
    assert len(memory_item(api, 2)["round_reviews"]) == 1  # not written since: its item keeps it
    assert memory_differences(api.dynamodb, api.names) == []


def test_copies_of_several_answers_of_a_word_are_not_carried_on(api, session):
    """A later review keeps a round's copies only while they are about one answer (CARRY_BYTES):
    its item stays one write unit."""
    assert send_round(api, session).status_code == 201  # word 1 answered twice
    assert len(memory_item(api, 1)["round_reviews"]) == 2

    assert review(api, session["id"], 1, True, reviewed_at=DAYS[4]).status_code == 201

    assert "round_reviews" not in memory_item(api, 1)
    assert memory_differences(api.dynamodb, api.names) == []
