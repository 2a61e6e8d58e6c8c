"""The deployed adapters of the fit pipeline, which the local run replaces with a folder queue
and `node cli.mjs`: the SQS queues the API and the fitting function send to (on moto's SQS), and
the fitter reached as a Lambda function (botocore's Stubber: moto runs no Node function)."""
import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from chalicelib.config import queue, recompute_queue
from chalicelib.services import SETTLE_SECONDS
from chalicelib.storage.queues import SqsQueue
from chalicelib.streams.fitter import FitFailed, LambdaFitter, request_body

REVIEWS = [{"word_id": 3, "reviewed_at": "2026-11-01T09:00:00Z", "correct": True},
           {"word_id": 3, "reviewed_at": "2026-11-03T09:00:00Z", "correct": False}]
PARAMETERS = [0.5] * 21


@pytest.fixture
def sqs(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def received(sqs, url, wait=0):
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def test_a_fit_request_is_one_message_of_the_fit_queue_when_its_url_is_set(sqs):
    url = sqs.create_queue(QueueName="fit")["QueueUrl"]

    fit_queue = queue({"FIT_QUEUE_URL": url, "FIT_QUEUE_DIR": "/not/used"}, "FIT")
    assert isinstance(fit_queue, SqsQueue)
    fit_queue.send({"owner": "ana#0", "requested_at": "2026-12-07T03:00:00Z", "counted": 1200})

    assert received(sqs, url) == [{"owner": "ana#0", "requested_at": "2026-12-07T03:00:00Z", "counted": 1200}]


def test_a_recompute_is_sent_now_and_again_after_the_settle_delay(sqs):
    url = sqs.create_queue(QueueName="recompute")["QueueUrl"]

    recompute_queue({"RECOMPUTE_QUEUE_URL": url}).send("ana#0", 2)

    assert received(sqs, url) == [{"owner": "ana#0", "version": 2}]  # the second is delayed
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    assert SETTLE_SECONDS > 0


def stubbed_lambda(payload: bytes, function_error=None):
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    answer = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(payload), len(payload))}
    if function_error:
        answer["FunctionError"] = function_error
    stubber.add_response("invoke", answer, {
        "FunctionName": "stack-fitter", "InvocationType": "RequestResponse",
        "Payload": request_body(REVIEWS, PARAMETERS).encode()})
    stubber.activate()
    return client, stubber


def test_the_fitter_function_is_invoked_with_the_engine_s_request_and_its_answer_returned():
    result = {"candidate": PARAMETERS, "adopted": False, "reason": "too_few_reviews", "reviews_used": 2}
    client, stubber = stubbed_lambda(json.dumps(result).encode())

    assert LambdaFitter("stack-fitter", lambda: client).fit(REVIEWS, PARAMETERS) == result
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("payload, function_error", [
    (b'{"errorType": "Runtime.OutOfMemory", "errorMessage": "out of memory"}', "Unhandled"),
    (b'{"error": "bad_request", "message": "reviews must be a list"}', None),
])
def test_a_failing_fitter_fails_the_fit_and_so_its_message(payload, function_error):
    client, stubber = stubbed_lambda(payload, function_error)

    with pytest.raises(FitFailed):
        LambdaFitter("stack-fitter", lambda: client).fit(REVIEWS, PARAMETERS)
    stubber.assert_no_pending_responses()
