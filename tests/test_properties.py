"""Whatever JSON arrives, the answer is 201, 400 or 404, and only a 201 writes."""
import json
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import CREATED_KEYS

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=8,
)
ids = st.integers(min_value=-2, max_value=4) | st.just(2**53) | json_values
timestamps = st.builds(
    lambda moment, minutes, sep, zulu: (
        moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(sep=sep)
        .replace("+00:00", "Z" if zulu else "+00:00")
    ),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(min_value=-1439, max_value=1439),
    st.sampled_from(["T", " "]),
    st.booleans(),
) | st.text(max_size=30) | json_values
session_bodies = st.fixed_dictionaries(
    {}, optional={"group_id": ids, "study_activity_id": ids, "created_at": timestamps}
)
bodies = (
    session_bodies
    | st.tuples(session_bodies, st.dictionaries(st.text(max_size=5), json_values, max_size=2)).map(
        lambda pair: {**pair[1], **pair[0]}
    )
    | json_values
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_json_body_gets_201_400_or_404_and_only_201_writes(api, body):
    before = api.session_count()

    response = api.post(json.dumps(body))

    assert response.status_code in (201, 400, 404), response.body
    assert set(response.json_body) == (
        CREATED_KEYS if response.status_code == 201 else {"error", "code"}
    )
    assert api.session_count() == before + (response.status_code == 201)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=64))
def test_any_bytes_get_a_json_answer_and_never_a_5xx(api, raw):
    before = api.session_count()

    response = api.post(raw)

    assert response.status_code in (201, 400, 404)
    assert response.headers["Content-Type"] == "application/json"
    assert api.session_count() == before + (response.status_code == 201)
