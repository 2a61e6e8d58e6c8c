"""Parallel creates through the real `chalice local` on DynamoDB Local (loopback only)."""
from concurrent.futures import ThreadPoolExecutor

import requests

THREADS = 16


def post_many(local_server, count, headers=None):
    url = local_server.url("/api/study-sessions")

    def create(_):
        with requests.post(
            url, json={"group_id": 1, "study_activity_id": 1}, headers=headers or {}, timeout=30
        ) as response:
            return response.status_code, response.json(), response.headers.get("Idempotent-Replayed")

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(create, range(count)))


def test_200_parallel_creates_make_200_sessions(local_server):
    before = local_server.session_count()

    results = post_many(local_server, 200)

    assert [status for status, _, _ in results] == [201] * 200
    assert len({body["id"] for _, body, _ in results}) == 200
    assert local_server.session_count() == before + 200


def test_50_parallel_creates_with_one_key_make_one_session(local_server):
    before = local_server.session_count()

    results = post_many(local_server, 50, headers={"Idempotency-Key": "double-click-storm"})

    assert [status for status, _, _ in results] == [201] * 50
    assert len({body["id"] for _, body, _ in results}) == 1
    assert [replayed for _, _, replayed in results].count(None) == 1
    assert local_server.session_count() == before + 1
