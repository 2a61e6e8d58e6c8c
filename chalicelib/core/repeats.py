"""What tells a repeated write from a new one: the ids that an Idempotency-Key names, the
fingerprint of what was asked, and how a write that found its id taken is resolved."""
import hashlib
import json
import os
import threading
import time
import uuid
from typing import Optional, Tuple

from chalicelib.core.errors import IdempotencyKeyReused, InternalError
from chalicelib.core.validation import NewSession

# Ids for requests with an Idempotency-Key are UUIDv5s of the owner and the key in these
# namespaces: two learners (or one learner before and after a reset) sending one key get two.
SESSION_NAMESPACE = uuid.UUID("6f1d7a52-1c55-4f7e-9a53-3d3b8f0c2a41")
REVIEW_NAMESPACE = uuid.UUID("0d9b6c7e-52f1-4c3a-8e0b-7b5f3e2a9c14")
ROUND_NAMESPACE = uuid.UUID("5a1f0e43-9c2d-4b7a-8f36-2e9d41c07b58")  # a keyed round's reviews


COUNTER_BITS = 42  # rand_a's 12 bits and the top 30 of rand_b: 4 trillion ids a millisecond
_last_id = [0, 0]  # the millisecond and counter of the process's last id
_last_id_lock = threading.Lock()


def time_ordered_id() -> str:
    """A UUIDv7 (RFC 9562) that sorts after every one this process made before it, from any
    thread: a counter follows the millisecond (method 1, as Python 3.14's uuid.uuid7), started
    at random each millisecond and counted up within one; if the clock goes back, the last
    millisecond is kept. Reviews are replayed in this order (chalicelib.core.scheduling), so the
    answers of one round, all made in one millisecond, are replayed in the order written."""
    with _last_id_lock:
        now, (last, count) = time.time_ns() // 1_000_000, _last_id
        if now > last:
            millis, counter = now, _counter_start()
        elif count + 1 < 1 << COUNTER_BITS:  # the same millisecond, or the clock went back
            millis, counter = last, count + 1
        else:  # this millisecond's counter is spent: take the next millisecond
            millis, counter = last + 1, _counter_start()
        _last_id[:] = millis, counter
    tail = int.from_bytes(os.urandom(4), "big")
    value = (millis << 80 | 0x7 << 76 | (counter >> 30) << 64 | 0b10 << 62
             | (counter & ((1 << 30) - 1)) << 32 | tail)
    return str(uuid.UUID(int=value))


def _counter_start() -> int:
    """Random, its top bit 0: room to count up from."""
    return int.from_bytes(os.urandom(6), "big") >> (48 - COUNTER_BITS + 1)


def keyed_id(namespace: uuid.UUID, owner: str, key: str) -> str:
    return str(uuid.uuid5(namespace, f"{owner}:{key}"))


def fingerprint(values: list) -> str:
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()


def payload_fingerprint(new: NewSession) -> str:
    """Same for two requests that ask for the same session; a defaulted
    created_at counts as absent, so a retry a second later still matches."""
    return fingerprint([new.group_id, new.study_activity_id, new.created_at])


def resolve_clash(existing: dict, attempted: dict, key: Optional[str]) -> Tuple[dict, bool]:
    """A conditional write found an item under its id: the stored item, and whether the
    request replays an earlier one. botocore resends a write whose answer was lost; finding
    this attempt's own write_token there is a success, not a clash."""
    if existing.get("write_token") == attempted["write_token"]:
        return existing, False
    if key is None:
        raise InternalError(cause="random id already taken")
    if existing.get("fingerprint") != attempted["fingerprint"]:
        raise IdempotencyKeyReused()
    return existing, True


def resolve_round(existing: list, attempted: list, name: Optional[str]) -> Tuple[list, bool]:
    """Reviews already stored under the ids of these: each resolved as a clash; a repeat that
    does not match them all (a key reused for another round) is refused."""
    stored = {item["id"]: item for item in existing}
    if set(stored) != {review["id"] for review in attempted}:
        raise IdempotencyKeyReused()
    resolved = [resolve_clash(stored[review["id"]], review, name) for review in attempted]
    return [item for item, _ in resolved], any(replayed for _, replayed in resolved)
