"""Cursors: the export's page walk over any history (resets between, pages that end a part) and
any page size returns every item once and ends with `next_cursor: null`; on every list a cursor
the API did not make is a 400, never a 500. On moto and on DynamoDB Local, whose queries refuse
start keys and numbers that moto takes."""
import base64
import json
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib.config import REQUEST_DEADLINE
from chalicelib.learners.identity import Identity
from chalicelib.storage.dynamo import to_item
from chalicelib.storage.schema import split_owner
from chalicelib.streams.audit import learner_items
from tests.helpers import assert_error

PARTS = ("sessions", "reviews", "memories", "aggregates")
T0 = datetime(2026, 11, 1, 9, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=60)


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def forged(payload) -> str:
    """A cursor as the API encodes one: URL-safe base64 of JSON, without padding."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decoded(cursor: str):
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


# --- The export: every item once, whatever the history and the page size -----------------------

def in_request(call, *args):
    REQUEST_DEADLINE.start()
    return call(*args)


def write_history(api, learner, history):
    """Per epoch (a reset before each but the first): sessions of group 1, each with its answers,
    and the consumer's bookkeeping markers, which the export leaves out."""
    services = api.services()
    for epoch, (sessions, markers) in enumerate(history):
        if epoch:
            in_request(services.sessions.reset, learner)
        for answers in sessions:
            session = in_request(services.sessions.create, learner,
                                 {"group_id": 1, "study_activity_id": 1}, None)[0]
            for word_id, correct in answers:
                in_request(services.reviews.review, learner, session["id"], None,
                           {"word_id": word_id, "correct": correct}, None)
        for _ in range(markers):
            api.dynamodb.put_item(TableName=api.names["aggregates"], Item=to_item(
                {"learner": f"{learner}#{epoch}", "item": f"seen#{uuid.uuid4().hex}", "expires_at": 1}))
    api.count_history()  # the aggregates, as the stream consumer keeps them


def stored_keys(api, learner):
    """What the tables hold of the learner that the export lists: (part, epoch, key)."""
    found = set()
    for table, item in learner_items(api.dynamodb, api.names, learner):
        if table == "study_sessions":
            found.add(("sessions", split_owner(item["owner"])[1], item["id"]))
        elif table == "word_reviews":
            found.add(("reviews", split_owner(item["owner"])[1], item["id"]))
        elif table == "memories" and item["scope"] == item["owner"]:
            found.add(("memories", split_owner(item["owner"])[1], item["word_id"]))
        elif table == "aggregates" and item["learner"] != learner and not item["item"].startswith("seen#"):
            found.add(("aggregates", split_owner(item["learner"])[1], item["item"]))
    return found


def exported_keys(page):
    keys = {"sessions": "id", "reviews": "id", "memories": "word_id", "aggregates": "item"}
    return [(part, item["epoch"], item[keys[part]]) for part in PARTS for item in page[part]]


def export_walk(api, learner, limit, most):
    """Every page of the learner's export, following next_cursor; at most ``most`` pages."""
    export = api.services().learner_data().export
    pages, query = [], {"limit": str(limit)}
    while len(pages) <= most:
        body, _ = in_request(export, Identity(learner, None, None), query)
        pages.append(body)
        if body["next_cursor"] is None:
            return pages
        query = {"limit": str(limit), "cursor": body["next_cursor"]}
    raise AssertionError(f"no end after {most} pages")


def assert_every_item_once_in_full_pages(api, learner, limit):
    stored = stored_keys(api, learner)
    pages = export_walk(api, learner, limit, most=len(stored) + 1)

    listed = [key for page in pages for key in exported_keys(page)]
    assert len(listed) == len(set(listed))  # none twice
    assert set(listed) == stored  # none missed
    sizes = [len(exported_keys(page)) for page in pages]
    assert all(size == limit for size in sizes[:-1]), sizes  # no short or empty page before the end
    assert 0 < sizes[-1] <= limit or sizes == [0]
    return pages


answers = st.lists(st.tuples(st.integers(1, 4), st.booleans()), max_size=4)
epochs = st.lists(st.tuples(st.lists(answers, max_size=3), st.integers(0, 3)), min_size=1, max_size=3)


@pytest.fixture
def resetting(api):
    api.restart(resets=True)
    return api


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=epochs, limit=st.integers(1, 7) | st.integers(1, 100))
@example(history=[([[(1, True)]], 0), ([[(2, False)], []], 1)], limit=1)  # every page ends a part
@example(history=[([[(1, True), (1, False)]], 2), ([], 0), ([[(3, True)]], 0)], limit=2)
@example(history=[([[(1, True)], [(2, True)]], 0), ([[(4, False)]], 0)], limit=5)
@example(history=[([[(1, True)]], 0), ([[(1, True), (2, True)]], 0)], limit=7)
def test_an_export_walk_over_resets_returns_every_item_once_and_ends_with_null(resetting, history, limit):
    learner = f"learner-{uuid.uuid4().hex}"
    write_history(resetting, learner, history)

    assert_every_item_once_in_full_pages(resetting, learner, limit)


def test_exactly_a_page_of_sessions_is_followed_by_the_rest_not_by_an_error(api):
    """The report's learner with exactly 100 sessions: page 1, then the aggregates, then the end."""
    learner = f"learner-{uuid.uuid4().hex}"
    write_history(api, learner, [([[] for _ in range(100)], 0)])

    pages = assert_every_item_once_in_full_pages(api, learner, 100)

    assert [len(page["sessions"]) for page in pages] == [100, 0]
    assert {a["item"] for a in pages[1]["aggregates"]} >= {"totals", "group#1", "activity#1"}


# --- Crafted cursors: a 400 on every route, never a 500 ----------------------------------------

@pytest.fixture
def lists(api):
    """Lists of every kind with more than one page, and the cursors of a walk through each with
    limit 1: three sessions of group 1, three words due (answered wrong 60 days ago), the export."""
    from tests.test_scheduling import Clock

    api.restart(clock=Clock(NOW))
    sessions = []
    for minutes in range(3):
        response = api.post({"group_id": 1, "study_activity_id": 1,
                             "created_at": stamp(T0 + timedelta(minutes=minutes))})
        assert response.status_code == 201
        sessions.append(response.json_body["id"])
    for word_id in (1, 2, 3):
        answer = {"word_id": word_id, "correct": False, "reviewed_at": stamp(T0 + timedelta(hours=1))}
        response = api.post(answer, path=f"/api/study-sessions/{sessions[0]}/review")
        assert response.status_code == 201
    api.count_history()
    routes = ["/api/study-sessions", "/api/groups/1/study-sessions", "/api/study-activities/1/sessions",
              "/api/study-activities/1/study-sessions", "/api/groups", "/api/groups/1/words",
              "/api/groups/1/due-words", f"/api/study-sessions/{sessions[0]}/next-words", "/api/me/export"]
    walked = {}
    for route in routes:
        cursors, cursor = [], ""
        while True:
            response = api.get(f"{route}?limit=1&cursor={cursor}")
            assert response.status_code == 200, (route, response.body)
            cursor = response.json_body["next_cursor"]
            if cursor is None:
                break
            cursors.append(cursor)
        assert cursors, route
        walked[route] = cursors
    return walked


def get(api, route, cursor):
    return api.get(f"{route}?limit=1&cursor={urllib.parse.quote(cursor, safe='')}")


def assert_page_or_refused(response):
    assert response.status_code in (200, 400), response.body
    if response.status_code == 400:
        assert_error(response, 400, "validation_error", "cursor is not valid for this list")


# What a cursor's fields may be made to hold: any JSON, numbers past DynamoDB's 38 digits, digits
# that str.isdigit() takes and int() refuses, lone surrogates, times past now, words of the API.
json_scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=70)
                | st.integers(min_value=-10**45, max_value=10**45)
                | st.text(st.characters(exclude_categories=()), max_size=8)
                | st.sampled_from(["²", "١", "abc", "zzz", "-", "", "0", "9" * 39, "1e3", "sessions",
                                   "reviews", "memories", "aggregates", "due", "new", "seen#x", "totals",
                                   "9999-12-31T23:59:59Z", "2026-11-01T09:00:00Z", "2026-02-30T00:00:00Z",
                                   "2026-11-01T09:00:00Z#x", str(uuid.uuid4())]))
json_values = st.recursive(json_scalars, lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=5), children, max_size=3), max_leaves=6)


@st.composite
def crafted(draw, genuine):
    """A cursor the API did not make: bytes, JSON of any shape, or a cursor it made with a field
    changed, added, dropped or of another list."""
    kind = draw(st.sampled_from(["text", "bytes", "json", "field", "fields", "list", "extra"]))
    if kind == "text":
        return draw(st.text(max_size=300))
    if kind == "bytes":
        return base64.urlsafe_b64encode(draw(st.binary(max_size=200))).decode()
    if kind == "json":
        return forged(draw(json_values))
    payload = decoded(draw(st.sampled_from(genuine)))
    after = payload["after"]
    if kind == "field":
        index = draw(st.integers(0, len(after) - 1))
        payload["after"] = after[:index] + [draw(json_scalars)] + after[index + 1:]
    elif kind == "fields":
        payload["after"] = draw(st.lists(json_scalars, max_size=6))
    elif kind == "list":
        payload["list"] = draw(json_scalars)
    else:
        payload[draw(st.text(max_size=5).filter(lambda name: name not in payload))] = draw(json_scalars)
    return forged(payload)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_cursor_on_any_route_gets_a_page_or_a_400_never_a_500(api, lists, data):
    route = data.draw(st.sampled_from(sorted(lists)))
    cursor = data.draw(crafted(lists[route]))

    assert_page_or_refused(get(api, route, cursor))


def field_changed(cursor, index, value):
    payload = decoded(cursor)
    payload["after"][index] = value
    return forged(payload)


def test_the_reported_cursors_are_refused(api, lists):
    """Each answered 500 before (found in an adversarial review, on DynamoDB Local)."""
    export, due = lists["/api/me/export"], lists["/api/groups/1/due-words"][0]
    crafted_cursors = [
        ("/api/me/export", forged({"list": "export", "after": ["reviews", "²", "-", "-"]})),
        ("/api/me/export", forged({"list": "export", "after": ["reviews", "0", "abc", "-"]})),
        ("/api/me/export", forged({"list": "export", "after": ["memories", "0", "9" * 39, "-"]})),
        ("/api/groups/1/due-words", field_changed(due, 1, "9999-12-31T23:59:59Z")),  # due after now
        ("/api/groups/1/due-words", field_changed(due, 1, "zzz")),
        ("/api/groups/1/due-words", field_changed(due, 2, 10**39)),
    ] + [("/api/me/export", field_changed(cursor, index, value)) for cursor in export
         for index, value in ((1, "²"), (2, "abc"), (2, 10**39), (2, "9" * 39), (-1, 10**39))]

    for route, cursor in crafted_cursors:
        response = get(api, route, cursor)
        assert response.status_code == 400, (route, decoded(cursor), response.body)
        assert_error(response, 400, "validation_error", "cursor is not valid for this list")
