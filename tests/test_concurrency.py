"""Parallel creates through the real `chalice local` on DynamoDB Local (loopback only)."""
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
