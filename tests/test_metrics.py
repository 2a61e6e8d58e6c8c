"""CloudWatch metrics in Embedded Metric Format: one stdout line per counted request."""
import json

import pytest

from chalicelib.core.metrics import NAMESPACE
from tests.test_faults import inject_error

VALID = {"group_id": 1, "study_activity_id": 1}


@pytest.fixture(autouse=True)
def on_lambda(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "study-sessions-test")


def test_outside_lambda_nothing_is_written(api, capsys, monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    capsys.readouterr()
    api.post(VALID)

    assert emf_lines(capsys) == []


def emf_lines(capsys):
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    for line in lines:
        [directive] = line["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == NAMESPACE
        assert isinstance(line["_aws"]["Timestamp"], int)
        for dimensions in directive["Dimensions"]:
            assert all(isinstance(line[name], str) for name in dimensions)
        for metric in directive["Metrics"]:
            value = line[metric["Name"]]
            assert metric["Unit"] == "Count" and type(value) is int and value >= 1
    return lines


def counted(lines):
    return sorted((name, line.get("Code")) for line in lines
                  for name in (m["Name"] for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]))


def test_a_create_counts_a_session_and_its_replay_a_replay(api, capsys):
    capsys.readouterr()
    api.post(VALID, headers={"Idempotency-Key": "m-1"})
    api.post(VALID, headers={"Idempotency-Key": "m-1"})

    assert counted(emf_lines(capsys)) == [("Replays", None), ("SessionsCreated", None)]


def test_a_review_counts_a_review(api, capsys):
    session = api.post(VALID).json_body
    capsys.readouterr()

    api.post({"word_id": 1, "correct": True}, path=f"/api/study-sessions/{session['id']}/review")

    assert counted(emf_lines(capsys)) == [("ReviewsRecorded", None)]


def test_a_round_counts_each_of_its_reviews(api, capsys):
    session = api.post(VALID).json_body
    capsys.readouterr()

    round_ = {"reviews": [{"word_id": 1, "is_correct": True}, {"word_id": 2, "is_correct": False},
                          {"word_id": 3, "is_correct": True}]}
    api.post(round_, path=f"/study_sessions/{session['id']}/review")

    [line] = emf_lines(capsys)
    assert (counted([line]), line["ReviewsRecorded"]) == ([("ReviewsRecorded", None)], 3)


def test_a_single_review_and_a_create_count_one(api, capsys):
    capsys.readouterr()
    session = api.post(VALID).json_body
    api.post({"word_id": 1, "correct": True}, path=f"/api/study-sessions/{session['id']}/review")

    assert [line.get("SessionsCreated", line.get("ReviewsRecorded")) for line in emf_lines(capsys)] == [1, 1]


@pytest.mark.parametrize("body, code", [({"group_id": 1}, "validation_error"),
                                        ({"group_id": 9, "study_activity_id": 1}, "not_found")])
def test_a_4xx_counts_a_client_error_by_code(api, capsys, body, code):
    capsys.readouterr()
    api.post(body)

    [line] = emf_lines(capsys)
    assert counted([line]) == [("ClientErrors", code)]
    assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Service", "Code"]]


def test_a_throttled_write_counts_a_5xx_and_a_dynamodb_throttle(api, capsys):
    inject_error(api.dynamodb, "PutItem", "ThrottlingException")
    capsys.readouterr()

    assert api.post(VALID).status_code == 503

    assert counted(emf_lines(capsys)) == [("DynamoDBThrottles", None), ("ServerErrors", None)]


def test_a_read_counts_nothing(api, capsys):
    capsys.readouterr()
    api.get("/api/groups")

    assert emf_lines(capsys) == []
