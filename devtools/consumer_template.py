"""The aggregates consumer in the packaged template, as AWS runs a stream consumer: an event
source mapping on each table's stream (Chalice's decorator takes one ARN, at import time, so
the merge template names the streams of this stack's tables), reporting failed records one by
one, bisecting a failing batch, retrying a bounded number of times and then sending the failed
range's metadata to an SQS queue that has an alarm; invoked only for new sessions and reviews and
for the memory items rounds commit (FILTERS); its own role (chalicelib.storage.access)."""
import json
from typing import Dict

from chalicelib.storage.schema import ROUND_MARK
from devtools.monitoring import alarm, log_group, logs_and_traces, metric
from devtools.policies import data_policy

FUNCTION = "Aggregates"  # chalice package's logical ids for the decorated function and its role
ROLE = "AggregatesRole"
LOG_GROUP = "AggregatesLogGroup"
QUEUE = "AggregatesFailuresQueue"
POLICY = "AggregatesPolicy"
FUNCTION_NAME = {"Fn::Sub": "${AWS::StackName}-aggregates"}
# The two streams, by the table they belong to; chalice's own event keeps the sessions stream.
EVENTS = {"AggregatesDynamodbEventSource": "StudySessionsTable",
          "ReviewsDynamodbEventSource": "WordReviewsTable",
          "MemoriesDynamodbEventSource": "MemoriesTable"}
# What each stream hands on: new sessions and reviews; memory items a round committed
# (chalicelib.streams.rounds), by the flag beside the reviews they carry ("exists" matches a
# plain value only, not the map of reviews).
FILTERS = {"StudySessionsTable": {"eventName": ["INSERT"]},
           "WordReviewsTable": {"eventName": ["INSERT"]},
           "MemoriesTable": {"eventName": ["INSERT", "MODIFY"],
                             "dynamodb": {"NewImage": {ROUND_MARK: {"BOOL": [True]}}}}}
MAX_RETRIES = 10
MAX_RECORD_AGE_SECONDS = 86_400  # the streams keep records 24 h
ITERATOR_AGE_ALARM_MS = 60_000
SKIPS = [
    ("CKV_AWS_116", "No DLQ: the mapping retries stream records, then sends them to an SQS destination"),
    ("CKV_AWS_117", "No VPC: it reaches only DynamoDB, CloudWatch and X-Ray over AWS endpoints"),
    ("CKV_AWS_173", "Environment holds table names, an origin and a log level: no secrets"),
]


def _event(table: str) -> dict:
    return {"Type": "DynamoDB", "Properties": {
        "Stream": {"Fn::GetAtt": [table, "StreamArn"]},
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 100,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": MAX_RETRIES,
        "MaximumRecordAgeInSeconds": MAX_RECORD_AGE_SECONDS,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [QUEUE, "Arn"]}}},
        "FilterCriteria": {"Filters": [{"Pattern": json.dumps(FILTERS[table])}]},
    }}


def _policy(resets: bool) -> dict:
    policy = data_policy("aggregates", "AggregatesConsumer", resets, {})
    policy["Properties"]["PolicyDocument"]["Statement"] += [
        {"Sid": "ReportFailures", "Effect": "Allow", "Action": ["sqs:SendMessage"],
         "Resource": [{"Fn::GetAtt": [QUEUE, "Arn"]}]},
        *logs_and_traces(LOG_GROUP),
    ]
    return policy


def resources(function_properties: dict, retention_days: int, protected: bool,
              resets: bool) -> Dict[str, dict]:
    """``function_properties``: what the API function gets too (runtime, architecture, the
    tables' names); ``resets``: whether the stage lets learners reset their history."""
    return {
        FUNCTION: {
            "DependsOn": [POLICY],  # the mapping reads the streams with the function's role
            "Metadata": {"checkov": {"skip": [{"id": id_, "comment": comment} for id_, comment in SKIPS]}},
            "Properties": {**function_properties, "FunctionName": FUNCTION_NAME,
                           "Events": {name: _event(table) for name, table in EVENTS.items()}},
        },
        ROLE: {"Properties": {"Policies": []}},
        POLICY: _policy(resets),
        LOG_GROUP: log_group({"Fn::Sub": "/aws/lambda/${AWS::StackName}-aggregates"}, retention_days,
                             protected),
        QUEUE: {"Type": "AWS::SQS::Queue",
                "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_27", "comment": (
                    "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled), which this check predates; "
                    "messages hold shard ids and sequence numbers only")}]}},
                "Properties": {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 86_400}},
        "AggregatesFailuresAlarm": alarm(
            "Stream records the aggregates consumer gave up on: the queue holds the failed ranges' "
            "shard and sequence numbers; fix the cause, then rebuild the aggregates (devtools/audit.py).",
            1, [metric("failed", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                        {"QueueName": {"Fn::GetAtt": [QUEUE, "QueueName"]}}, "Maximum", True)],
            "GreaterThanOrEqualToThreshold"),
        "AggregatesIteratorAgeAlarm": alarm(
            "The aggregates consumer is more than a minute behind its streams.",
            ITERATOR_AGE_ALARM_MS, [metric("age", "AWS/Lambda", "IteratorAge",
                                            {"FunctionName": {"Ref": FUNCTION}}, "Maximum", True)],
            "GreaterThanOrEqualToThreshold"),
    }
