"""Opaque list cursors: where the last page ended, tied to the list it came from."""
import base64
import binascii
import json
from typing import List, Optional, Sequence

from chalicelib.errors import ValidationFailed
from chalicelib.validation import is_id

MAX_POSITION_TEXT = 64
INVALID_CURSOR = "cursor is not valid for this list; start again without it."


def encode_cursor(scope: str, position: Sequence) -> str:
    payload = json.dumps({"list": scope, "after": list(position)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: Optional[str], scope: str, shape: Sequence[type]) -> Optional[List]:
    """The position a cursor encodes, checked against the list and value types; an empty
    cursor (`?cursor=`, what a client sends for "no next_cursor yet") is the first page."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        raise ValidationFailed(INVALID_CURSOR) from None
    if not isinstance(payload, dict) or payload.get("list") != scope:
        raise ValidationFailed(INVALID_CURSOR)
    position = payload.get("after")
    if not isinstance(position, list) or len(position) != len(shape):
        raise ValidationFailed(INVALID_CURSOR)
    if not all(_fits(value, kind) for value, kind in zip(position, shape, strict=True)):
        raise ValidationFailed(INVALID_CURSOR)
    return position


def _fits(value, kind: type) -> bool:
    if kind is int:
        return is_id(value)
    return isinstance(value, str) and 0 < len(value) <= MAX_POSITION_TEXT
