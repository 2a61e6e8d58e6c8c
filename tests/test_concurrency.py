"""Parallel creates through the real `chalice local` on DynamoDB Local (loopback only)."""
from concurrent.futures import ThreadPoolExecutor

import requests

from devtools.load import post_in_parallel

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
    page = requests.get(local_server.url(f"/api/study-sessions/{session['id']}"), timeout=10).json()
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
    page = requests.get(local_server.url(f"/api/study-sessions/{session['id']}?per_page=100"),
                        timeout=10).json()
    assert page["session"]["review_items_count"] == 12 * 5  # identical ones deduplicated would be 10 * 5
    assert sum(w["correct_count"] + w["wrong_count"] for w in page["words"]) == 12 * 5
