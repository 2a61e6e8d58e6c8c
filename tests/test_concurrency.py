"""Parallel creates and reviews through the real `chalice local` on DynamoDB Local (loopback only)."""
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests

from chalicelib.storage.dynamo import from_item
from chalicelib.streams.audit import memory_differences
from devtools.load import post_in_parallel
from tests.helpers import reference_memories, settled

THREADS = 16
BODY = {"group_id": 1, "study_activity_id": 1}


def test_200_parallel_creates_make_200_sessions(local_server):
    before = local_server.session_count()

    replies = post_in_parallel(local_server.base_url, BODY, 200, THREADS)

    assert [reply.status for reply in replies] == [201] * 200
    assert len({reply.body["id"] for reply in replies}) == 200
    assert local_server.session_count() == before + 200


def test_50_parallel_creates_with_one_key_make_one_session(local_server):
    before = local_server.session_count()

    replies = post_in_parallel(
        local_server.base_url, BODY, 50, THREADS, headers={"Idempotency-Key": "double-click-storm"}
    )

    assert [reply.status for reply in replies] == [201] * 50
    assert len({reply.body["id"] for reply in replies}) == 1
    assert [reply.headers.get("Idempotent-Replayed") for reply in replies].count(None) == 1
    assert local_server.session_count() == before + 1


def test_50_parallel_reviews_of_one_session_are_all_counted(local_server):
    session = requests.post(local_server.url("/api/study-sessions"), json=BODY, timeout=10).json()
    answers = [{"word_id": 1 + i % 10, "correct": i % 3 != 0} for i in range(50)]

    def send(answer):
        return requests.post(local_server.url(f"/api/study-sessions/{session['id']}/review"),
                             json=answer, timeout=30)

    with ThreadPoolExecutor(max_workers=50) as pool:
        replies = list(pool.map(send, answers))

    assert [reply.status_code for reply in replies] == [201] * 50
    page = settled(lambda: requests.get(local_server.url(f"/api/study-sessions/{session['id']}"),
                                        timeout=10).json(),
                   lambda page: page["session"]["review_items_count"] >= 50)
    assert page["session"]["review_items_count"] == 50
    counts = {w["id"]: (w["correct_count"], w["wrong_count"]) for w in page["words"]}
    assert counts == {word: (sum(a["correct"] for a in answers if a["word_id"] == word),
                             sum(not a["correct"] for a in answers if a["word_id"] == word))
                      for word in range(1, 11)}
    assert page["session"]["end_time"] == max(reply.json()["created_at"] for reply in replies)


def test_12_parallel_rounds_without_keys_all_count_identical_ones_included(local_server):
    """The lang-portal sends no Idempotency-Key: a drill repeated in one session counts again."""
    session = requests.post(local_server.url("/api/study-sessions"), json=BODY, timeout=10).json()
    rounds = [{"reviews": [{"word_id": 1 + (n + i) % 10, "is_correct": (n + i) % 2 == 0} for i in range(5)]}
              for n in range(10)]
    rounds += [rounds[0], rounds[3]]  # two rounds identical to others

    def send(body):
        return requests.post(local_server.url(f"/study_sessions/{session['id']}/review"), json=body,
                             timeout=30)

    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(send, rounds))

    assert [reply.status_code for reply in replies] == [201] * 12
    assert [reply.headers.get("Idempotent-Replayed") for reply in replies] == [None] * 12
    page = settled(lambda: requests.get(local_server.url(f"/api/study-sessions/{session['id']}?per_page=100"),
                                        timeout=10).json(),
                   lambda page: page["session"]["review_items_count"] >= 12 * 5)
    assert page["session"]["review_items_count"] == 12 * 5  # identical ones deduplicated would be 10 * 5
    assert sum(w["correct_count"] + w["wrong_count"] for w in page["words"]) == 12 * 5


def test_parallel_reviews_of_one_word_each_count_once_in_its_memory(local_server):
    """Twelve answers of one word at twelve times, sent at once: the stored memory is the
    reference scheduler's replay of the word's stored reviews in time order."""
    started = datetime.now(UTC) - timedelta(days=30)
    session = requests.post(local_server.url("/api/study-sessions"), json={
        **BODY, "created_at": started.strftime("%Y-%m-%dT%H:%M:%SZ")}, timeout=10).json()
    answers = [{"word_id": 8, "correct": n % 3 != 0,
                "reviewed_at": (started + timedelta(hours=50 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")}
               for n in range(12)]

    replies = post_in_parallel(local_server.base_url, lambda n: answers[n], 12, 12,
                               path=f"/api/study-sessions/{session['id']}/review")

    assert [reply.status for reply in replies] == [201] * 12
    owner = from_item(local_server.dynamodb.get_item(
        TableName=local_server.names["study_sessions"], Key={"id": {"S": session["id"]}})["Item"])["owner"]
    stored = sorted((r["created_at"], r["id"], r["correct"]) for r in scan(local_server, "word_reviews")
                    if r.get("owner") == owner and r["word_id"] == 8)
    memory = from_item(local_server.dynamodb.get_item(TableName=local_server.names["memories"], Key={
        "scope": {"S": owner}, "word_id": {"N": "8"}}, ConsistentRead=True)["Item"])
    want = reference_memories([(at, correct) for at, _, correct in stored])[-1]
    assert {n: memory[n] for n in ("state", "stability", "difficulty", "due")} == {
        n: want[n] for n in ("state", "stability", "difficulty", "due")}
    assert memory["applied"] == len(stored)
    assert [key for key, _, _ in memory_differences(local_server.dynamodb, local_server.names)
            if key[0].startswith(owner)] == []


def scan(server, logical):
    pages = server.dynamodb.get_paginator("scan").paginate(TableName=server.names[logical],
                                                           ConsistentRead=True)
    return [from_item(item) for page in pages for item in page["Items"]]
