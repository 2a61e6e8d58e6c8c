"""The purge of reset histories (chalicelib.streams.purge) in the packaged template: Chalice's scheduled
function, given the API's runtime and tables, its own log group, an alarm on its errors, and its
own role: reads of the pending resets and the old histories' partitions, their deletes, and
deleting erased learners' accounts of the stage's pool, nothing else."""
from typing import Dict

from devtools import learner_pool
from devtools.monitoring import alarm, log_group, logs_and_traces, metric
from devtools.policies import data_policy

FUNCTION = "Purge"  # chalice package's logical ids for the scheduled function and its role
ROLE = "PurgeRole"
LOG_GROUP = "PurgeLogGroup"
POLICY = "PurgePolicy"
FUNCTION_NAME = {"Fn::Sub": "${AWS::StackName}-purge"}
SKIPS = [
    ("CKV_AWS_116", "No DLQ: a failed run leaves its learners marked, and the next run purges them"),
    ("CKV_AWS_117", "No VPC: it reaches only DynamoDB, Cognito, CloudWatch and X-Ray over AWS endpoints"),
    ("CKV_AWS_173", "Environment holds table names, an origin and a log level: no secrets"),
]


def _policy(resets: bool) -> dict:
    policy = data_policy("purge", "PurgeResetHistories", resets, learner_pool.pool_arn())
    policy["Properties"]["PolicyDocument"]["Statement"] += logs_and_traces(LOG_GROUP)
    return policy


def resources(function_properties: dict, retention_days: int, protected: bool,
              resets: bool) -> Dict[str, dict]:
    """``function_properties``: what the API function gets too (runtime, architecture, the
    tables' names); ``resets``: whether the stage lets learners reset their history."""
    return {
        FUNCTION: {
            "DependsOn": [POLICY],
            "Metadata": {"checkov": {"skip": [{"id": id_, "comment": comment} for id_, comment in SKIPS]}},
            "Properties": {**function_properties, "FunctionName": FUNCTION_NAME,
                           "Timeout": 900},
        },
        ROLE: {"Properties": {"Policies": []}},
        POLICY: _policy(resets),
        LOG_GROUP: log_group({"Fn::Sub": "/aws/lambda/${AWS::StackName}-purge"}, retention_days, protected),
        "PurgeErrorsAlarm": alarm(
            "The purge of reset histories failed: old sessions and reviews stay stored (unlisted) "
            "until a run succeeds.",
            1, [metric("errors", "AWS/Lambda", "Errors", {"FunctionName": {"Ref": FUNCTION}}, "Sum", True)],
            "GreaterThanOrEqualToThreshold"),
    }
