"""Validation is pure: these tests touch no AWS at all."""
from datetime import UTC, datetime

import pytest

from chalicelib.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from chalicelib.core.validation import (
    MAX_BODY_BYTES,
    MAX_ID,
    NewSession,
    check_media_type,
    parse_idempotency_key,
    parse_json,
    parse_limit,
    parse_new_session,
    parse_path_id,
    parse_timestamp,
)

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def test_a_minimal_body_is_accepted_with_no_timestamp():
    assert parse_new_session({"group_id": 1, "study_activity_id": 2}, NOW) == NewSession(1, 2, None)


def test_the_largest_safe_integer_is_an_id():
    assert parse_new_session({"group_id": MAX_ID, "study_activity_id": 1}, NOW).group_id == MAX_ID


@pytest.mark.parametrize("value", [0, -1, MAX_ID + 1, 1.0, 1.5, "1", None, True, False, [], {}])
def test_an_id_that_is_not_a_positive_json_integer_is_refused_by_name(value):
    with pytest.raises(ValidationFailed) as refused:
        parse_new_session({"group_id": 1, "study_activity_id": value}, NOW)
    assert "study_activity_id must be an integer from 1 to 9007199254740991" in refused.value.message
    assert "group_id" not in refused.value.message


def test_every_missing_field_is_named():
    with pytest.raises(ValidationFailed) as refused:
        parse_new_session({}, NOW)
    assert "Missing required field(s): group_id, study_activity_id." in refused.value.message


def test_unknown_fields_are_named():
    with pytest.raises(ValidationFailed) as refused:
        parse_new_session({"group_id": 1, "study_activity_id": 1, "user": 3, "notes": ""}, NOW)
    assert "Unknown field(s): notes, user" in refused.value.message


def test_all_problems_are_reported_together():
    with pytest.raises(ValidationFailed) as refused:
        parse_new_session({"group_id": "x", "extra": 1}, NOW)
    message = refused.value.message
    assert "Unknown field(s): extra" in message
    assert "Missing required field(s): study_activity_id." in message
    assert "group_id must be an integer" in message


@pytest.mark.parametrize("body", [[], "x", 1, None, [{"group_id": 1}]])
def test_a_body_that_is_not_an_object_is_refused(body):
    with pytest.raises(ValidationFailed, match="must be a JSON object"):
        parse_new_session(body, NOW)


@pytest.mark.parametrize(
    "given, stored",
    [
        ("2026-11-26T21:54:23Z", "2026-11-26T21:54:23Z"),
        ("2026-11-26t21:54:23z", "2026-11-26T21:54:23Z"),
        ("2026-11-26T23:54:23+02:00", "2026-11-26T21:54:23Z"),
        ("2026-11-26T21:54:23.987654-05:30", "2026-11-27T03:24:23Z"),
        ("0099-01-01T00:00:00Z", "0099-01-01T00:00:00Z"),
    ],
)
def test_timestamps_are_normalised_to_utc_whole_seconds(given, stored):
    assert parse_timestamp(given) == stored


@pytest.mark.parametrize(
    "value",
    ["2026-11-26T21:54:23", "2026-11-26", "yesterday", "", "2026-11-26 21:54:23Z", 1700000000,
     None, "2026-11-26T21:54:23+0200", "2026-11-26T00:00:00+24:00", "2026-11-26T21:54:23+02:74",
     "２０２６-11-26T21:54:23Z"],
)
def test_a_timestamp_without_offset_or_not_rfc3339_is_refused(value):
    with pytest.raises(ValidationFailed, match="created_at must be an RFC 3339 timestamp"):
        parse_timestamp(value)


@pytest.mark.parametrize(
    "value",
    ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-26T24:00:00Z",
     "2026-11-26T23:59:60Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
)
def test_a_timestamp_that_is_not_a_real_moment_is_refused(value):
    with pytest.raises(ValidationFailed, match="created_at is not a real date and time"):
        parse_timestamp(value)


def test_a_bad_created_at_in_a_body_is_named():
    with pytest.raises(ValidationFailed, match="created_at"):
        parse_new_session({"group_id": 1, "study_activity_id": 1, "created_at": None}, NOW)


@pytest.mark.parametrize(
    "created_at", ["2026-11-27T12:05:00Z", "2026-11-27T14:04:59+02:00", "0001-01-01T00:00:00Z"]
)
def test_created_at_up_to_5_minutes_ahead_of_the_clock_is_accepted(created_at):
    body = {"group_id": 1, "study_activity_id": 1, "created_at": created_at}

    assert parse_new_session(body, NOW).created_at == parse_timestamp(created_at)


@pytest.mark.parametrize("created_at", ["2026-11-27T12:05:01Z", "9999-12-31T23:59:59Z"])
def test_created_at_more_than_5_minutes_ahead_of_the_clock_is_refused(created_at):
    body = {"group_id": 1, "study_activity_id": 1, "created_at": created_at}

    with pytest.raises(ValidationFailed, match="created_at is in the future.*more than 5 minutes"):
        parse_new_session(body, NOW)


@pytest.mark.parametrize(
    "raw, name",
    [(b'{"group_id": 1, "group_id": 2, "study_activity_id": 1}', "group_id"),
     (b'{"a": {"x": 1, "x": 1}}', "x"), (b'[{"k": 1}, {"k": 1, "k": 2}]', "k")],
)
def test_a_member_named_twice_is_refused_naming_it(raw, name):
    with pytest.raises(ValidationFailed, match=f'The member "{name}" appears more than once'):
        parse_json(raw)


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"{'a': 1}", b"NaN", b'{"a": Infinity}']
)
def test_a_body_that_is_not_json_is_refused(raw):
    with pytest.raises(ValidationFailed, match="The body is not valid JSON."):
        parse_json(raw)


def test_a_body_nested_as_deep_as_16_kib_allows_is_refused_not_a_crash():
    """Python 3.11 gives up on it (not valid JSON); 3.13 parses it (not an object): both 400."""
    with pytest.raises(ValidationFailed, match="The body is not valid JSON|must be a JSON object"):
        parse_new_session(parse_json(b"[" * 8000 + b"]" * 8000), NOW)


def test_a_body_that_is_not_utf8_is_refused():
    with pytest.raises(ValidationFailed, match="not valid UTF-8"):
        parse_json(b'{"group_id": "\xff"}')


def test_a_body_up_to_16_kib_is_read_and_one_byte_more_is_refused():
    padding = b" " * (MAX_BODY_BYTES - 2)
    assert parse_json(b"{" + padding + b"}") == {}
    with pytest.raises(PayloadTooLarge):
        parse_json(b"{" + padding + b" }")


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "application/json; charset=utf-8",
                     "APPLICATION/JSON", "application/merge-patch+json"]
)
def test_json_media_types_are_accepted(content_type):
    check_media_type(content_type)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
def test_other_media_types_are_refused(content_type):
    with pytest.raises(UnsupportedMediaType):
        check_media_type(content_type)


@pytest.mark.parametrize("key", ["k", "a" * 255, "3f0c-ab 12_%!~"])
def test_idempotency_keys_of_printable_ascii_are_accepted(key):
    assert parse_idempotency_key(key) == key


@pytest.mark.parametrize("key", ["", "a" * 256, "tab\there", "é", "line\n"])
def test_other_idempotency_keys_are_refused(key):
    with pytest.raises(ValidationFailed, match="Idempotency-Key must be 1 to 255"):
        parse_idempotency_key(key)


def test_limit_defaults_to_20_and_accepts_1_to_100():
    assert parse_limit(None) == 20
    assert parse_limit("1") == 1
    assert parse_limit("100") == 100


@pytest.mark.parametrize("value", ["0", "101", "-1", "1.0", "ten", "", " 5", "1e2"])
def test_a_limit_outside_1_to_100_is_refused(value):
    with pytest.raises(ValidationFailed, match="limit must be an integer from 1 to 100"):
        parse_limit(value)


@pytest.mark.parametrize("text", ["0", "-1", "abc", "1.0", "9007199254740992", "", "١"])
def test_a_path_id_that_is_not_a_positive_integer_is_refused(text):
    with pytest.raises(ValidationFailed, match="group id must be an integer"):
        parse_path_id(text, "group id")
