"""Pure request validation: raw values in, clean values or ValidationFailed out."""
import json
import re
import string
from datetime import UTC, datetime, timedelta
from typing import Any, List, NamedTuple, Optional, Tuple

from chalicelib.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_ID = 2**53 - 1
MAX_BODY_BYTES = 16 * 1024
MAX_IDEMPOTENCY_KEY_LENGTH = 255
MAX_SESSION_ID_LENGTH = 64
MAX_CLOCK_SKEW = timedelta(minutes=5)  # how far ahead of our clock a created_at may be
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
DEFAULT_PER_PAGE = 10  # the lang-portal's page size

REQUIRED_FIELDS = ("group_id", "study_activity_id")
OPTIONAL_FIELDS = ("created_at",)
TIMESTAMP_EXAMPLE = "2026-11-26T21:54:23Z"
# What a created_at or reviewed_at may be (openapi.yaml's OffsetTime declares the same pattern).
RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"  # date, time, fraction
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"  # offset
)
STORED_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # what format_timestamp writes
STORED_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
SESSION_ID = re.compile(rf"[A-Za-z0-9-]{{1,{MAX_SESSION_ID_LENGTH}}}")  # what the API makes: UUIDs
_PRINTABLE_ASCII = frozenset(string.printable) - frozenset("\t\n\r\x0b\x0c")
_DIGITS = re.compile(r"[0-9]{1,16}")


class NewSession(NamedTuple):
    group_id: int
    study_activity_id: int
    created_at: Optional[str]  # UTC, normalised; None means "now"


class NewReview(NamedTuple):
    word_id: int
    correct: bool
    reviewed_at: Optional[str] = None  # UTC, normalised; None means "now"


def check_media_type(content_type: Optional[str]) -> None:
    """A missing Content-Type is read as JSON; anything else must be JSON."""
    if content_type is None:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise UnsupportedMediaType()


def parse_json(raw: bytes) -> Any:
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is over the {MAX_BODY_BYTES // 1024} KiB limit.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("The body is not valid UTF-8.") from None
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_members)
    except DuplicateMember as error:
        raise ValidationFailed(
            f"The member {json.dumps(error.name)} appears more than once in a JSON object; "
            "send each member once."
        ) from None
    except (ValueError, RecursionError):
        raise ValidationFailed("The body is not valid JSON.") from None


class DuplicateMember(Exception):
    """Parsers disagree on which duplicate wins, so a proxy and this API could read two requests."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _unique_members(pairs: List[Tuple[str, Any]]) -> dict:
    members = dict(pairs)
    if len(members) != len(pairs):
        seen = set()
        for name, _ in pairs:
            if name in seen:
                raise DuplicateMember(name)
            seen.add(name)
    return members


def _reject_constant(name: str) -> None:
    raise ValueError(name)


def parse_new_session(body: Any, now: datetime) -> NewSession:
    """``now`` is the server's clock: a created_at later than MAX_CLOCK_SKEW past it is refused."""
    if not isinstance(body, dict):
        raise ValidationFailed(
            "The body must be a JSON object with group_id and study_activity_id."
        )
    problems = []
    unknown = sorted(set(body) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        problems.append(
            f"Unknown field(s): {', '.join(unknown)}; "
            f"allowed: {', '.join(REQUIRED_FIELDS + OPTIONAL_FIELDS)}."
        )
    missing = [name for name in REQUIRED_FIELDS if name not in body]
    if missing:
        problems.append(f"Missing required field(s): {', '.join(missing)}.")
    for name in REQUIRED_FIELDS:
        if name in body and not is_id(body[name]):
            problems.append(_id_problem(name))
    created_at = None
    if "created_at" in body:
        try:
            created_at = parse_timestamp(body["created_at"], latest=now + MAX_CLOCK_SKEW, name="created_at")
        except ValidationFailed as error:
            problems.append(error.message)
    if problems:
        raise ValidationFailed(" ".join(problems))
    return NewSession(body["group_id"], body["study_activity_id"], created_at)


def parse_review(body: Any, path_word_id: Optional[int] = None, now: Optional[datetime] = None) -> NewReview:
    """{"word_id": int, "correct": bool, "reviewed_at"?: RFC 3339}; without word_id when the path
    names the word. ``now``: the server's clock, which a reviewed_at may pass by MAX_CLOCK_SKEW."""
    fields = ("correct",) if path_word_id is not None else ("word_id", "correct")
    if not isinstance(body, dict):
        raise ValidationFailed(f"The body must be a JSON object with {' and '.join(fields)}.")
    problems = []
    unknown = sorted(set(body) - set(fields) - {"reviewed_at"})
    if unknown:
        problems.append(f"Unknown field(s): {', '.join(unknown)}; allowed: {', '.join(fields)}, reviewed_at.")
    missing = [name for name in fields if name not in body]
    if missing:
        problems.append(f"Missing required field(s): {', '.join(missing)}.")
    if "word_id" in fields and "word_id" in body and not is_id(body["word_id"]):
        problems.append(_id_problem("word_id"))
    if "correct" in body and not isinstance(body["correct"], bool):
        problems.append("correct must be true or false.")
    reviewed_at = _optional_time(body, "reviewed_at", now, problems)
    if problems:
        raise ValidationFailed(" ".join(problems))
    word_id = path_word_id if path_word_id is not None else body["word_id"]
    return NewReview(word_id, body["correct"], reviewed_at)


def _optional_time(body: dict, name: str, now: Optional[datetime], problems: List[str],
                   where: str = "") -> Optional[str]:
    if name not in body:
        return None
    try:
        return parse_timestamp(body[name], latest=now and now + MAX_CLOCK_SKEW, name=where + name)
    except ValidationFailed as error:
        problems.append(error.message)
        return None


def is_id(value: Any) -> bool:
    return type(value) is int and 1 <= value <= MAX_ID


def _id_problem(name: str) -> str:
    return f"{name} must be an integer from 1 to {MAX_ID}."


def parse_path_id(text: str, name: str) -> int:
    """An integer id from a URL path; anything else is refused, naming it."""
    if _DIGITS.fullmatch(text) and is_id(int(text)):
        return int(text)
    raise ValidationFailed(_id_problem(name))


def is_plausible_session_id(text: str) -> bool:
    return 0 < len(text) <= MAX_SESSION_ID_LENGTH


def parse_timestamp(value: Any, latest: Optional[datetime] = None, name: str = "created_at") -> str:
    problem = (
        f"{name} must be an RFC 3339 timestamp with an offset, "
        f"for example {TIMESTAMP_EXAMPLE}."
    )
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        raise ValidationFailed(problem)
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed(f"{name} is not a real date and time: {value}.") from None
    if latest is not None and moment > latest:
        minutes = int(MAX_CLOCK_SKEW.total_seconds() // 60)
        raise ValidationFailed(
            f"{name} is in the future: {value} is more than {minutes} minutes "
            f"after the server's clock ({format_timestamp(latest - MAX_CLOCK_SKEW)})."
        )
    return format_timestamp(moment)


def format_timestamp(moment: datetime) -> str:
    """UTC, whole seconds, fixed width: sorts as text in the same order as time."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}Z"


def parse_idempotency_key(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY_LENGTH or not set(value) <= _PRINTABLE_ASCII:
        raise ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} "
            "printable ASCII characters."
        )
    return value


def parse_limit(value: Optional[str], default: int = DEFAULT_PAGE_SIZE) -> int:
    if value is None:
        return default
    if _DIGITS.fullmatch(value) and 1 <= int(value) <= MAX_PAGE_SIZE:
        return int(value)
    raise ValidationFailed(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}.")


class CursorPaging(NamedTuple):
    limit: int
    cursor: Optional[str]


class NumberedPaging(NamedTuple):
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def parse_paging(query: dict, numbered_by_default: bool = False):
    """`limit`/`cursor` or `page`/`per_page`, never both; with neither, the route's default."""
    cursor_style = {"limit", "cursor"} & query.keys()
    numbered_style = {"page", "per_page"} & query.keys()
    if cursor_style and numbered_style:
        raise ValidationFailed(
            f"Use either page/per_page or limit/cursor, not both (got "
            f"{', '.join(sorted(numbered_style | cursor_style))})."
        )
    if numbered_style or (numbered_by_default and not cursor_style):
        return parse_numbered_paging(query)
    return CursorPaging(parse_limit(query.get("limit")), query.get("cursor"))


def parse_numbered_paging(query: dict) -> NumberedPaging:
    page, per_page = query.get("page"), query.get("per_page")
    problems = []
    if page is not None and not (_DIGITS.fullmatch(page) and 1 <= int(page) <= MAX_ID):
        problems.append(f"page must be an integer from 1 to {MAX_ID}.")
    if per_page is not None and not (_DIGITS.fullmatch(per_page) and 1 <= int(per_page) <= MAX_PAGE_SIZE):
        problems.append(f"per_page must be an integer from 1 to {MAX_PAGE_SIZE}.")
    if problems:
        raise ValidationFailed(" ".join(problems))
    return NumberedPaging(int(page or 1), int(per_page or DEFAULT_PER_PAGE))


class SortedPaging(NamedTuple):
    """A lang-portal list page: page number, sort key and direction, 10 a page."""
    page: int
    sort_by: str
    descending: bool

    @property
    def offset(self) -> int:
        return (self.page - 1) * DEFAULT_PER_PAGE


def parse_sorted_paging(query: dict, sort_keys: Tuple[str, ...],
                        aliases: Optional[dict] = None) -> SortedPaging:
    """`page`, `sort_by` (one of ``sort_keys``, or an alias of one) and `order` (asc|desc);
    each left out takes the first key, ascending, page 1. A bad value is refused, naming it."""
    page, order = query.get("page", "1"), query.get("order", "asc")
    sort_by = query.get("sort_by", sort_keys[0])
    sort_by = (aliases or {}).get(sort_by, sort_by)
    problems = []
    if not (_DIGITS.fullmatch(page) and 1 <= int(page) <= MAX_ID):
        problems.append(f"page must be an integer from 1 to {MAX_ID}.")
    if sort_by not in sort_keys:
        problems.append(f"sort_by must be one of {', '.join(sort_keys)}.")
    if order not in ("asc", "desc"):
        problems.append("order must be asc or desc.")
    if problems:
        raise ValidationFailed(" ".join(problems))
    return SortedPaging(int(page), sort_by, order == "desc")


def parse_listed_id(text: str) -> Optional[int]:
    """An id in a lang-portal path, or None when it cannot name anything (then: 404)."""
    return int(text) if _DIGITS.fullmatch(text) and is_id(int(text)) else None


# A round is committed by one transaction of its words' memory items, and one transaction holds
# 100 items (chalicelib.storage.review_repository).
MAX_ROUND_REVIEWS = 100
ROUND_FIELDS = ("word_id", "is_correct")


def parse_review_round(body: Any, now: Optional[datetime] = None) -> List[NewReview]:
    """{"reviews": [{"word_id": int, "is_correct": bool, "reviewed_at"?: RFC 3339}, ...]}: 1 to
    MAX_ROUND_REVIEWS of them; a bad one is refused naming its index."""
    if not isinstance(body, dict) or set(body) != {"reviews"} or not isinstance(body["reviews"], list):
        raise ValidationFailed(
            'The body must be a JSON object {"reviews": [{"word_id": …, "is_correct": …}, …]}.')
    reviews = body["reviews"]
    if not 1 <= len(reviews) <= MAX_ROUND_REVIEWS:
        raise ValidationFailed(f"reviews must hold 1 to {MAX_ROUND_REVIEWS} reviews (got {len(reviews)}).")
    problems, times = [], []
    for index, review in enumerate(reviews):
        where = f"reviews[{index}]"
        if not isinstance(review, dict):
            problems.append(f"{where} must be an object with word_id and is_correct.")
            continue
        unknown = sorted(set(review) - set(ROUND_FIELDS) - {"reviewed_at"})
        missing = [name for name in ROUND_FIELDS if name not in review]
        if unknown:
            problems.append(f"{where}: unknown field(s): {', '.join(unknown)}.")
        if missing:
            problems.append(f"{where}: missing field(s): {', '.join(missing)}.")
        if "word_id" in review and not is_id(review["word_id"]):
            problems.append(f"{where}.{_id_problem('word_id')}")
        if "is_correct" in review and not isinstance(review["is_correct"], bool):
            problems.append(f"{where}.is_correct must be true or false.")
        times.append(_optional_time(review, "reviewed_at", now, problems, f"{where}."))
    if problems:
        raise ValidationFailed(" ".join(problems))
    return [NewReview(review["word_id"], review["is_correct"], reviewed_at)
            for review, reviewed_at in zip(reviews, times, strict=True)]


def parse_scheduler_change(body: Any, lowest: float, highest: float) -> float:
    """{"desired_retention": a number from ``lowest`` to ``highest``}, and nothing else: the
    retention the learner chooses (the parameters are fitted, never sent)."""
    shape = ('The body must be a JSON object {"desired_retention": '
             f'<a number from {lowest:g} to {highest:g}>}}.')
    if not isinstance(body, dict):
        raise ValidationFailed(shape)
    problems = []
    unknown = sorted(set(body) - {"desired_retention"})
    if unknown:
        problems.append(f"Unknown field(s): {', '.join(unknown)}; allowed: desired_retention.")
    if "desired_retention" not in body:
        problems.append("Missing required field(s): desired_retention.")
    else:
        value = body["desired_retention"]
        if type(value) not in (int, float) or not lowest <= value <= highest:
            problems.append(f"desired_retention must be a number from {lowest:g} to {highest:g} "
                            f"(the share of due words you aim to remember).")
    if problems:
        raise ValidationFailed(" ".join(problems))
    return float(body["desired_retention"])
