"""Opaque list cursors: where the last page ended, tied to the list it came from.

A cursor is checked whole before any read that uses it: its characters and length, the list it
names, and each field of its position against the form the API writes it in (an id, a stored
time, a session id, a word of the API's own). Anything else is a 400 that names the cursor, so no
query is sent with a start the database would refuse (DynamoDB answers a number of more than 38
digits, a start key outside the query's range or a string that is not UTF-8 with an error)."""
import base64
import binascii
import json
import re
from datetime import datetime
from typing import Any, Callable, List, Optional, Sequence

from chalicelib.core.errors import ValidationFailed
from chalicelib.core.validation import MAX_ID, SESSION_ID, STORED_TIME, STORED_TIME_FORMAT, is_id

INVALID_CURSOR = "cursor is not valid for this list; start again without it."
MAX_CURSOR_LENGTH = 512  # the longest the API makes is about 250 characters
CURSOR_CHARACTERS = re.compile(r"[A-Za-z0-9_-]*")  # URL-safe base64 without padding

Field = Callable[[Any], bool]  # whether a value is one the API writes in this field


def encode_cursor(scope: str, position: Sequence) -> str:
    payload = json.dumps({"list": scope, "after": list(position)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: Optional[str], scope: str, *shapes: Sequence[Field]) -> Optional[List]:
    """The position a cursor of the list ``scope`` encodes, if it has one of the ``shapes`` (a
    check per field); an empty cursor (`?cursor=`, what a client sends for "no next_cursor
    yet") is the first page."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_LENGTH or not CURSOR_CHARACTERS.fullmatch(cursor):
        raise ValidationFailed(INVALID_CURSOR)
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)),
                             parse_constant=_refuse)
    except (ValueError, binascii.Error, RecursionError):
        raise ValidationFailed(INVALID_CURSOR) from None
    if not isinstance(payload, dict) or set(payload) != {"list", "after"} or payload["list"] != scope:
        raise ValidationFailed(INVALID_CURSOR)
    position = payload["after"]
    for shape in shapes:
        if isinstance(position, list) and len(position) == len(shape) and all(
                fits(value) for value, fits in zip(position, shape, strict=True)):
            return position
    raise ValidationFailed(INVALID_CURSOR)


def _refuse(constant: str) -> None:
    raise ValueError(constant)  # NaN and Infinity: JSON has no such numbers


def an_id(value) -> bool:
    return is_id(value)


def a_count(value) -> bool:
    """0 or more, as an epoch."""
    return type(value) is int and 0 <= value <= MAX_ID


def a_stored_time(value) -> bool:
    """A time as the API stores it: UTC, whole seconds, a real date."""
    if not (isinstance(value, str) and STORED_TIME.fullmatch(value)):
        return False
    try:
        datetime.strptime(value, STORED_TIME_FORMAT)
    except ValueError:
        return False
    return True


def a_session_id(value) -> bool:
    return isinstance(value, str) and SESSION_ID.fullmatch(value) is not None


def exactly(word: str) -> Field:
    return lambda value: value == word
