"""Spaced repetition: every review updates the learner's memory of the word (FSRS-6, the `fsrs`
package as the reference), whatever the order, resends or parallelism of the reviews; and the
words that are due, page by page. On moto and DynamoDB Local."""
import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.storage.dynamo import from_item, to_item
from chalicelib.streams.audit import expected_memories, memory_differences, rebuild_memories
from tests.helpers import DynamoDBCalls, assert_error, reference_memories

T0 = datetime(2026, 11, 1, 9, 0, 0, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def stamp(moment):
    return moment.strftime(STAMP)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock(api):
    clock = Clock(T0 + timedelta(days=60))
    api.restart(clock=clock)
    return clock


@pytest.fixture
def session(api, clock):
    response = api.post({"group_id": 1, "study_activity_id": 1, "created_at": stamp(T0)})
    assert response.status_code == 201
    return response.json_body


def review(api, session_id, word_id, correct, reviewed_at=None, headers=None):
    body = {"word_id": word_id, "correct": correct}
    if reviewed_at is not None:
        body["reviewed_at"] = stamp(reviewed_at) if isinstance(reviewed_at, datetime) else reviewed_at
    return api.post(body, headers=headers, path=f"/api/study-sessions/{session_id}/review")


def memory_item(api, word_id, scope="implicit#0"):
    item = api.dynamodb.get_item(TableName=api.names["memories"], ConsistentRead=True,
                                 Key={"scope": {"S": scope}, "word_id": {"N": str(word_id)}}).get("Item")
    return from_item(item) if item else None


def memory_of(item):
    shown = {name: item[name] for name in ("state", "stability", "difficulty", "due")}
    return shown


def assert_memory_is_the_replay(api, word_id, answers):
    """The stored state and the audit both equal the reference's replay of ``answers``
    [(reviewed_at, correct)] sorted by time; the word's memory is its one item."""
    want = reference_memories(sorted(answers))[-1]
    stored = memory_item(api, word_id)
    assert memory_of(stored) == {name: want[name] for name in ("state", "stability", "difficulty", "due")}
    assert stored["applied"] == len(answers)
    assert [item["scope"] for item in api.dynamodb.scan(TableName=api.names["memories"])["Items"]
            if item["word_id"] == {"N": str(word_id)}] == [{"S": "implicit#0"}]
    assert memory_differences(api.dynamodb, api.names) == []


DAYS = [T0 + timedelta(days=d, minutes=m) for d, m in ((0, 0), (0, 7), (1, 0), (4, 30), (15, 0), (40, 0))]


def test_each_review_s_201_shows_the_memory_the_reference_scheduler_computes(api, session):
    answers = [(stamp(moment), correct)
               for moment, correct in zip(DAYS, (True, True, False, True, True, False), strict=True)]
    shown = [review(api, session["id"], 3, correct, reviewed_at=at).json_body["memory"]
             for at, correct in answers]

    assert shown == reference_memories(answers)
    assert shown[0]["retrievability"] is None and 0 < shown[3]["retrievability"] < 1
    assert_memory_is_the_replay(api, 3, answers)


def test_a_review_s_time_is_its_created_at_in_utc_whole_seconds(api, session):
    response = review(api, session["id"], 3, True, reviewed_at="2026-11-02T10:30:15.75+01:00")

    assert response.status_code == 201, response.body
    assert response.json_body["created_at"] == "2026-11-02T09:30:15Z"
    assert response.json_body["memory"] == reference_memories([("2026-11-02T09:30:15Z", True)])[0]


@pytest.mark.parametrize("reviewed_at, message", [
    ("yesterday", "reviewed_at must be an RFC 3339 timestamp with an offset, for example "
                  "2026-11-26T21:54:23Z."),
    ("2026-11-02T09:30:15", "reviewed_at must be an RFC 3339 timestamp with an offset"),
    ("2026-12-31T09:06:00Z", "reviewed_at is in the future: 2026-12-31T09:06:00Z is more than 5 minutes "
                             "after the server's clock (2026-12-31T09:00:00Z)."),
    ("2026-10-31T23:59:59Z", "reviewed_at is 2026-10-31T23:59:59Z, before the session's start_time "
                             "2026-11-01T09:00:00Z"),
])
def test_a_bad_reviewed_at_is_400_naming_it_and_writes_nothing(api, session, reviewed_at, message):
    response = review(api, session["id"], 3, True, reviewed_at=reviewed_at)

    assert_error(response, 400, "validation_error", message)

    assert api.dynamodb.scan(TableName=api.names["word_reviews"])["Items"] == []
    assert api.dynamodb.scan(TableName=api.names["memories"])["Items"] == []


def test_a_round_s_bad_reviewed_at_names_its_index(api, session):
    body = {"reviews": [{"word_id": 1, "is_correct": True, "reviewed_at": stamp(T0)},
                        {"word_id": 2, "is_correct": True, "reviewed_at": "2026-10-01T00:00:00Z"}]}

    response = api.post(body, path=f"/study_sessions/{session['id']}/review")

    assert_error(response, 400, "validation_error", "reviews[1].reviewed_at is 2026-10-01T00:00:00Z, before")
    assert api.dynamodb.scan(TableName=api.names["memories"])["Items"] == []


def test_a_review_older_than_the_word_s_last_one_replays_the_word_s_history(api, session):
    answers = [(stamp(DAYS[n]), correct)
               for n, correct in ((4, True), (0, True), (2, False), (5, True), (1, True))]

    for at, correct in answers:  # each arrives later than one reviewed after it
        assert review(api, session["id"], 5, correct, reviewed_at=at).status_code == 201

    assert_memory_is_the_replay(api, 5, answers)


def test_a_late_review_s_201_shows_its_place_in_the_history(api, session):
    review(api, session["id"], 5, True, reviewed_at=DAYS[0])
    review(api, session["id"], 5, True, reviewed_at=DAYS[4])

    late = review(api, session["id"], 5, False, reviewed_at=DAYS[2]).json_body["memory"]

    assert late == reference_memories([(stamp(DAYS[0]), True), (stamp(DAYS[2]), False)])[1]


def test_reviews_of_one_second_are_replayed_in_the_order_of_their_ids(api, session):
    body = {"reviews": [{"word_id": 6, "is_correct": n % 2 == 0, "reviewed_at": stamp(DAYS[0])}
                        for n in range(4)]}

    stored = api.post(body, path=f"/study_sessions/{session['id']}/review").json_body["reviews"]

    in_order = sorted(stored, key=lambda r: r["id"])
    assert [r["memory"] for r in in_order] == reference_memories(
        [(stamp(DAYS[0]), r["correct"]) for r in in_order])
    assert memory_differences(api.dynamodb, api.names) == []


def test_a_resent_review_shows_the_same_memory_and_counts_once(api, session):
    key = {"Idempotency-Key": "answer-1"}
    first = review(api, session["id"], 4, True, reviewed_at=DAYS[0], headers=key)
    second = review(api, session["id"], 4, True, reviewed_at=DAYS[0], headers=key)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json_body["memory"] == first.json_body["memory"]
    assert_memory_is_the_replay(api, 4, [(stamp(DAYS[0]), True)])


def test_a_resent_round_shows_the_same_memory_and_counts_once(api, session):
    body = {"reviews": [{"word_id": 1, "is_correct": True, "reviewed_at": stamp(DAYS[2])},
                        {"word_id": 2, "is_correct": False, "reviewed_at": stamp(DAYS[2])}]}
    path, key = f"/study_sessions/{session['id']}/review", {"Idempotency-Key": "round-1"}

    first, again = (api.post(body, headers=key, path=path) for _ in range(2))

    assert again.json_body == first.json_body and again.headers["Idempotent-Replayed"] == "true"
    assert memory_item(api, 1)["applied"] == memory_item(api, 2)["applied"] == 1


def test_a_round_commits_the_memory_of_each_of_its_words_in_one_transaction(api, session):
    api.get("/api/groups/1/words")  # words cached
    body = {"reviews": [{"word_id": w, "is_correct": c, "reviewed_at": stamp(DAYS[1])}
                        for w, c in ((1, True), (2, False), (1, False))]}

    with DynamoDBCalls(api.dynamodb) as calls:
        response = api.post(body, path=f"/study_sessions/{session['id']}/review")

    assert response.status_code == 201
    assert calls.operations == ["BatchGetItem", "TransactWriteItems", "BatchWriteItem"]
    assert memory_item(api, 1)["applied"] == 2 and memory_item(api, 2)["applied"] == 1
    carried = {word: set(memory_item(api, word)["round_reviews"]) for word in (1, 2)}
    reviews = response.json_body["reviews"]
    assert carried == {word: {r["id"] for r in reviews if r["word_id"] == word} for word in (1, 2)}
    assert memory_differences(api.dynamodb, api.names) == []


def test_a_reset_forgets_the_memory(api, clock):
    api.restart(resets=True, clock=clock)
    first = api.post({"group_id": 1, "study_activity_id": 1, "created_at": stamp(T0)}).json_body
    review(api, first["id"], 1, False, reviewed_at=DAYS[0])
    assert api.get("/api/groups/1/due-words").json_body["items"][0]["state"] == "learning"

    api.post({}, path="/api/study-sessions/reset")

    page = api.get("/api/groups/1/due-words").json_body
    assert [(w["id"], w["state"]) for w in page["items"]] == [(n, "new") for n in range(1, 11)]
    assert api.get("/dashboard/stats").json_body["words_due"] == 0


def due_words(api, path, **query):
    text = "&".join(f"{name}={value}" for name, value in query.items())
    response = api.get(f"{path}?{text}" if text else path)
    assert response.status_code == 200, response.body
    return response.json_body


def test_due_words_are_the_most_overdue_first_then_the_new_ones_by_id(api, session, clock):
    for word, at in ((7, DAYS[2]), (3, DAYS[0]), (9, DAYS[1])):  # new words answered wrong: due in a minute
        review(api, session["id"], word, False, reviewed_at=at)
    review(api, session["id"], 5, True, reviewed_at=clock.now - timedelta(minutes=1))  # due in 9 minutes

    page = due_words(api, "/api/groups/1/due-words")

    assert [(w["id"], w["state"]) for w in page["items"]] == (
        [(3, "learning"), (9, "learning"), (7, "learning")] + [(n, "new") for n in (1, 2, 4, 6, 8, 10)])
    assert page["next_cursor"] is None
    first = page["items"][0]
    assert first == {"id": 3, "kanji": first["kanji"], "romaji": first["romaji"], "english": first["english"],
                     "state": "learning", "due": stamp(DAYS[0] + timedelta(minutes=1)),
                     "retrievability": first["retrievability"]}
    assert 0 < first["retrievability"] < 1
    assert page["items"][-1]["due"] is None and page["items"][-1]["retrievability"] is None
    assert api.get("/dashboard/stats").json_body["words_due"] == 3
    clock.now += timedelta(minutes=10)
    assert api.get("/dashboard/stats").json_body["words_due"] == 4


def test_due_words_page_by_cursor_through_both_parts(api, session):
    for word, at in ((4, DAYS[1]), (2, DAYS[0]), (8, DAYS[2])):
        review(api, session["id"], word, False, reviewed_at=at)

    seen, cursor = [], None
    while True:
        page = due_words(api, "/api/groups/1/due-words", limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 2
        seen += [w["id"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [2, 4, 8, 1, 3, 5, 6, 7, 9, 10]


def test_a_due_words_page_is_one_query_of_the_learner_s_memories(api, session):
    for word in range(1, 11):
        review(api, session["id"], word, word % 2 == 0, reviewed_at=DAYS[0])
    due_words(api, "/api/groups/1/due-words")  # the words cached

    with DynamoDBCalls(api.dynamodb) as calls:
        page = due_words(api, "/api/groups/1/due-words", limit=3)

    assert len(page["items"]) == 3 and page["next_cursor"]
    assert calls.operations == ["Query"]
    with DynamoDBCalls(api.dynamodb) as calls:
        rest = due_words(api, "/api/groups/1/due-words", limit=20)
    assert [w["state"] for w in rest["items"]] == ["learning"] * 10  # every word reviewed, none new
    assert calls.operations == ["Query"]


def test_next_words_are_the_due_words_of_the_session_s_group(api, session):
    review(api, session["id"], 6, False, reviewed_at=DAYS[0])

    page = due_words(api, f"/api/study-sessions/{session['id']}/next-words", limit=3)

    assert [(w["id"], w["state"]) for w in page["items"]] == [(6, "learning"), (1, "new"), (2, "new")]
    assert page["next_cursor"]


def test_due_words_of_an_unknown_group_or_session_are_404(api, clock):
    assert_error(api.get("/api/groups/99/due-words"), 404, "not_found", "Group 99 does not exist.")
    assert_error(api.get("/api/study-sessions/nope/next-words"), 404, "not_found",
                 "This study session does not exist.")


def test_a_cursor_of_another_group_is_refused(api, session):
    review(api, session["id"], 1, False, reviewed_at=DAYS[0])
    cursor = due_words(api, "/api/groups/1/due-words", limit=1)["next_cursor"]

    assert_error(api.get(f"/api/groups/2/due-words?cursor={cursor}"), 400, "validation_error",
                 "cursor is not valid for this list")


def test_the_audit_finds_a_memory_that_differs_and_the_rebuild_repairs_it(api, session):
    for at, correct in ((DAYS[0], True), (DAYS[3], False)):
        review(api, session["id"], 2, correct, reviewed_at=at)
    api.dynamodb.update_item(TableName=api.names["memories"], Key={"scope": {"S": "implicit#0"},
                             "word_id": {"N": "2"}}, UpdateExpression="SET stability = :s",
                             ExpressionAttributeValues={":s": {"N": "99.5"}})
    api.dynamodb.put_item(TableName=api.names["memories"], Item=to_item(
        {"scope": "implicit#0", "word_id": 1, "owner": "implicit#0", "state": "review"}))

    found = memory_differences(api.dynamodb, api.names)

    assert [key for key, _, _ in found] == [("implicit#0", 1), ("implicit#0", 2)]
    assert not found[0][1] and found[1][2]["stability"] == 99.5  # no review of word 1 stored
    assert rebuild_memories(api.dynamodb, api.names) == 2
    assert memory_differences(api.dynamodb, api.names) == []
    assert_memory_is_the_replay(api, 2, [(stamp(DAYS[0]), True), (stamp(DAYS[3]), False)])


def test_the_rebuild_indexes_and_replays_reviews_stored_before_scheduling(api, session):
    for word in (1, 1, 2):
        review(api, session["id"], word, True, reviewed_at=DAYS[1])
    for item in api.dynamodb.scan(TableName=api.names["word_reviews"])["Items"]:  # as stored before
        api.dynamodb.update_item(TableName=api.names["word_reviews"], Key={"id": item["id"]},
                                 UpdateExpression="REMOVE owner_word, reviewed_key")
    for item in api.dynamodb.scan(TableName=api.names["memories"])["Items"]:
        api.dynamodb.delete_item(TableName=api.names["memories"],
                                 Key={"scope": item["scope"], "word_id": item["word_id"]})

    assert rebuild_memories(api.dynamodb, api.names) == len(expected_memories(api.dynamodb, api.names)) == 2
    late = review(api, session["id"], 1, False, reviewed_at=DAYS[0])  # replays the word's indexed history
    assert late.status_code == 201
    assert memory_differences(api.dynamodb, api.names) == []
    assert memory_item(api, 1)["applied"] == 3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_histories_in_random_order_equal_the_replay(api, session, seed):
    generator = random.Random(seed)
    moments = sorted(T0 + timedelta(minutes=generator.randrange(0, 50 * 24 * 60)) for _ in range(12))
    answers = {word: [(stamp(m), generator.random() < 0.7) for m in generator.sample(moments, 6)]
               for word in (1, 2, 3)}
    arrivals = [(word, at, correct) for word, of_word in answers.items() for at, correct in of_word]
    generator.shuffle(arrivals)

    for word, at, correct in arrivals:
        assert review(api, session["id"], word, correct, reviewed_at=at).status_code == 201

    for word, of_word in answers.items():
        want = reference_memories(sorted(of_word))[-1]
        assert memory_of(memory_item(api, word)) == {
            n: want[n] for n in ("state", "stability", "difficulty", "due")}
    assert memory_differences(api.dynamodb, api.names) == []


def test_ids_of_reviews_without_a_key_sort_in_the_order_they_were_made():
    import time
    import uuid

    from chalicelib.core.repeats import time_ordered_id

    first = time_ordered_id()
    time.sleep(0.002)
    later = time_ordered_id()

    assert first < later and uuid.UUID(first).version == uuid.UUID(later).version == 7
    assert len({time_ordered_id() for _ in range(1000)}) == 1000


def test_ids_made_in_one_millisecond_or_after_the_clock_went_back_still_sort_in_order(monkeypatch):
    """RFC 9562's counter in the bits after the time (method 1): each id of a process sorts
    after the one made before it, from any thread, whatever the clock does."""
    import threading
    import uuid

    from chalicelib.core import repeats

    made = [repeats.time_ordered_id() for _ in range(5000)]  # many in each millisecond
    assert made == sorted(made) and len(set(made)) == len(made)
    assert {uuid.UUID(id_).version for id_ in made} == {7}
    assert {uuid.UUID(id_).variant for id_ in made} == {uuid.RFC_4122}

    last = made[-1]
    monkeypatch.setattr(repeats.time, "time_ns", lambda: 1_000_000_000)  # back to 1970
    assert last < repeats.time_ordered_id() < repeats.time_ordered_id()
    spent = 4_000_000_000_000  # a millisecond whose counter is spent: the next one is taken
    monkeypatch.setattr(repeats, "_last_id", [spent, (1 << repeats.COUNTER_BITS) - 1])
    following = repeats.time_ordered_id()
    assert uuid.UUID(following).int >> 80 == spent + 1 and following < repeats.time_ordered_id()
    monkeypatch.undo()

    by_thread = {}

    def make(name):
        by_thread[name] = [repeats.time_ordered_id() for _ in range(2000)]

    threads = [threading.Thread(target=make, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(ids == sorted(ids) for ids in by_thread.values())
    assert len({id_ for ids in by_thread.values() for id_ in ids}) == 8000


def test_a_function_whose_kept_memory_another_changed_reads_it_and_computes_again(api, session, clock):
    import app as app_module

    answers = [(stamp(DAYS[0]), True), (stamp(DAYS[2]), False), (stamp(DAYS[4]), True)]
    this = app_module._services
    assert review(api, session["id"], 3, *answers[0][::-1]).status_code == 201  # kept by this function
    api.restart(clock=clock)  # another function, with nothing kept
    assert review(api, session["id"], 3, *answers[1][::-1]).status_code == 201
    app_module._services = this  # back to the first: what it kept is one review behind

    with DynamoDBCalls(api.dynamodb) as calls:
        shown = review(api, session["id"], 3, *answers[2][::-1]).json_body["memory"]

    # its write refused (the stored state is not the one kept), the memory read, written again
    assert calls.operations == ["TransactWriteItems", "BatchGetItem", "TransactWriteItems"]
    assert shown == reference_memories(answers)[-1]
    assert_memory_is_the_replay(api, 3, answers)


def test_a_function_reviews_a_word_it_wrote_last_without_reading_it(api, session):
    assert review(api, session["id"], 3, True, reviewed_at=stamp(DAYS[0])).status_code == 201

    with DynamoDBCalls(api.dynamodb) as calls:
        shown = review(api, session["id"], 3, False, reviewed_at=stamp(DAYS[3])).json_body["memory"]

    assert calls.operations == ["TransactWriteItems"]
    assert shown == reference_memories([(stamp(DAYS[0]), True), (stamp(DAYS[3]), False)])[-1]
