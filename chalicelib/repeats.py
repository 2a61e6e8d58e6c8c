"""What tells a repeated write from a new one: the ids that an Idempotency-Key names, the
fingerprint of what was asked, and how a write that found its id taken is resolved."""
import hashlib
import json
import os
import time
import uuid
from typing import Optional, Tuple

from chalicelib.errors import IdempotencyKeyReused, InternalError
from chalicelib.validation import NewSession

# Ids for requests with an Idempotency-Key are UUIDv5s of the owner and the key in these
# namespaces: two learners (or one learner before and after a reset) sending one key get two.
SESSION_NAMESPACE = uuid.UUID("6f1d7a52-1c55-4f7e-9a53-3d3b8f0c2a41")
REVIEW_NAMESPACE = uuid.UUID("0d9b6c7e-52f1-4c3a-8e0b-7b5f3e2a9c14")
ROUND_NAMESPACE = uuid.UUID("5a1f0e43-9c2d-4b7a-8f36-2e9d41c07b58")  # a keyed round's reviews


def time_ordered_id() -> str:
    """A UUIDv7 (RFC 9562; Python 3.14 has uuid.uuid7): an id made a millisecond later sorts
    later. A review without a key gets one, so that of two reviews of a word in one second the
    later written is also the later in the scheduler's order (chalicelib.scheduling)."""
    millis, random_bits = time.time_ns() // 1_000_000, int.from_bytes(os.urandom(10), "big")
    value = (millis << 80 | 0x7 << 76 | (random_bits >> 62 & 0xFFF) << 64 | 0b10 << 62
             | random_bits & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


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
