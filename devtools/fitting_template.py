"""The fitting of learners' parameters in the packaged template (chalicelib.streams.fitting): the
fit queue (SSE-SQS) with its dead-letter queue and an alarm on it, Chalice's SQS-fed Python worker
(`fitting`, batch size 1, its own role), and the fitting engine as a Node.js 22 function of its own
(functions/fitting/handler.mjs, x86_64: the binding's native build is linux-x64-gnu only), which
only the worker may invoke and whose role writes its logs and nothing else. The worker's
reserved concurrency bounds how many learners are fitted at once, and so the read load a night's
fits put on the tables (README, "Personalised scheduling")."""
from typing import Dict

from chalicelib.study.scheduler import FIT_MAX_RECEIVES, FIT_VISIBILITY_SECONDS
from devtools.monitoring import alarm, log_group, logs_and_traces, metric
from devtools.policies import data_policy

FUNCTION = "Fitting"  # chalice package's logical ids for the SQS-fed function and its role
ROLE = "FittingRole"
LOG_GROUP = "FittingLogGroup"
POLICY = "FittingPolicy"
QUEUE = "FitQueue"
DEAD_LETTERS = "FitDeadLetterQueue"
EVENT = "FittingSqsEventSource"
FUNCTION_NAME = {"Fn::Sub": "${AWS::StackName}-fitting"}
FITTER = "Fitter"  # the Node.js engine
FITTER_ROLE = "FitterRole"
FITTER_LOG_GROUP = "FitterLogGroup"
FITTER_NAME = {"Fn::Sub": "${AWS::StackName}-fitter"}
FITTER_CODE = "./fitter.zip"  # functions/fitting with its node_modules, made by devtools/package.py
WORKER_TIMEOUT = FIT_VISIBILITY_SECONDS // 6  # SQS's advice: visibility at least 6 x the timeout
FITTER_TIMEOUT = WORKER_TIMEOUT - 10
FITTER_MEMORY = 1769  # one full vCPU
CONCURRENCY = 10  # learners fitted at once (the event source's maximum concurrency)
SKIPS = [
    ("CKV_AWS_116", "Its DLQ is the queue's redrive policy: a failed message moves there"),
    ("CKV_AWS_117", "No VPC: it reaches only DynamoDB, Lambda, CloudWatch and X-Ray over AWS endpoints"),
    ("CKV_AWS_173", "Environment holds table names, a queue and a function name: no secrets"),
]
FITTER_SKIPS = [
    ("CKV_AWS_116", "Invoked synchronously by the worker only: a DLQ takes async events"),
    ("CKV_AWS_117", "No VPC: it reaches nothing but CloudWatch"),
    ("CKV_AWS_173", "No environment"),
]
QUEUE_SKIP = [{"id": "CKV_AWS_27", "comment": (
    "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled), which this check predates")}]


def _policy(resets: bool) -> dict:
    policy = data_policy("fitting", "FitLearners", resets, {})
    policy["Properties"]["PolicyDocument"]["Statement"] += [
        {"Sid": "InvokeFitter", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
         "Resource": [{"Fn::GetAtt": [FITTER, "Arn"]}]},
        send_statement([RECOMPUTE_QUEUE]),
        # what the event source mapping does with the function's role
        {"Sid": "ReadFitQueue", "Effect": "Allow",
         "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
         "Resource": [{"Fn::GetAtt": [QUEUE, "Arn"]}]},
        *logs_and_traces(LOG_GROUP),
    ]
    return policy


RECOMPUTE = "Recompute"  # the recompute queue's function (chalicelib.streams.recompute)
RECOMPUTE_ROLE = "RecomputeRole"
RECOMPUTE_POLICY = "RecomputePolicy"
RECOMPUTE_LOG_GROUP = "RecomputeLogGroup"
RECOMPUTE_QUEUE = "RecomputeQueue"
RECOMPUTE_DEAD_LETTERS = "RecomputeDeadLetterQueue"
RECOMPUTE_TIMEOUT = 300
RECOMPUTE_CONCURRENCY = 10
RECOMPUTE_MAX_RECEIVES = 5


def queue_events(template: dict) -> dict:
    """chalice package names each SQS-fed function's queue by the name in its decorator, as an
    Fn::Sub, which the merge template cannot replace (a merge joins objects): the events named
    here are given this stack's queues instead."""
    for function, event, queue in ((FUNCTION, EVENT, QUEUE),
                                   (RECOMPUTE, "RecomputeSqsEventSource", RECOMPUTE_QUEUE)):
        template["Resources"][function]["Properties"]["Events"][event]["Properties"]["Queue"] = {
            "Fn::GetAtt": [queue, "Arn"]}
    return template


def send_statement(queues) -> dict:
    return {"Sid": "SendToQueues", "Effect": "Allow", "Action": ["sqs:SendMessage"],
            "Resource": [{"Fn::GetAtt": [queue, "Arn"]} for queue in queues]}


def queue_variables() -> dict:
    """Where the API and the fitting function send their messages."""
    return {"FIT_QUEUE_URL": {"Ref": QUEUE}, "RECOMPUTE_QUEUE_URL": {"Ref": RECOMPUTE_QUEUE}}


def _queue(dead_letters: str, visibility: int, receives: int) -> dict:
    return {"Type": "AWS::SQS::Queue", "Metadata": {"checkov": {"skip": QUEUE_SKIP}},
            "Properties": {"SqsManagedSseEnabled": True, "VisibilityTimeout": visibility,
                           "MessageRetentionPeriod": 4 * 86_400,
                           "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]},
                                             "maxReceiveCount": receives}}}


def _dead_letters() -> dict:
    return {"Type": "AWS::SQS::Queue", "Metadata": {"checkov": {"skip": QUEUE_SKIP}},
            "Properties": {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 86_400}}


def _recompute_policy(resets: bool) -> dict:
    policy = data_policy("recompute", "RecomputeMemories", resets, {})
    policy["Properties"]["PolicyDocument"]["Statement"] += [
        {"Sid": "ReadRecomputeQueue", "Effect": "Allow",
         "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
         "Resource": [{"Fn::GetAtt": [RECOMPUTE_QUEUE, "Arn"]}]},
        *logs_and_traces(RECOMPUTE_LOG_GROUP),
    ]
    return policy


def recompute_resources(function_properties: dict, retention_days: int, protected: bool,
                        resets: bool) -> Dict[str, dict]:
    """The recompute queue, its dead-letter queue and alarm, and its function (its own role)."""
    return {
        RECOMPUTE: {
            "DependsOn": [RECOMPUTE_POLICY],
            "Metadata": {"checkov": {"skip": [{"id": id_, "comment": comment} for id_, comment in SKIPS]}},
            "Properties": {**function_properties, "FunctionName": {"Fn::Sub": "${AWS::StackName}-recompute"},
                           "Timeout": RECOMPUTE_TIMEOUT,
                           "Events": {"RecomputeSqsEventSource": {"Type": "SQS", "Properties": {
                               "Queue": {"Fn::GetAtt": [RECOMPUTE_QUEUE, "Arn"]}, "BatchSize": 1,
                               "ScalingConfig": {"MaximumConcurrency": RECOMPUTE_CONCURRENCY}}}}},
        },
        RECOMPUTE_ROLE: {"Properties": {"Policies": []}},
        RECOMPUTE_POLICY: _recompute_policy(resets),
        RECOMPUTE_LOG_GROUP: log_group({"Fn::Sub": "/aws/lambda/${AWS::StackName}-recompute"}, retention_days,
                                       protected),
        RECOMPUTE_QUEUE: _queue(RECOMPUTE_DEAD_LETTERS, 6 * RECOMPUTE_TIMEOUT, RECOMPUTE_MAX_RECEIVES),
        RECOMPUTE_DEAD_LETTERS: _dead_letters(),
        "RecomputeFailuresAlarm": alarm(
            "Recomputes of a learner's memories that failed every delivery: their memories stay of "
            "an older scheduler version (each review of such a word still replays it exactly; "
            "`make audit` lists them). Fix the cause, then redrive the dead-letter queue.",
            1, [metric("failed", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                        {"QueueName": {"Fn::GetAtt": [RECOMPUTE_DEAD_LETTERS, "QueueName"]}}, "Maximum",
                        True)],
            "GreaterThanOrEqualToThreshold"),
    }


FIT_DUE = "FitDue"  # the nightly schedule's function (app.fit_learners_due)
FIT_DUE_ROLE = "FitDueRole"
FIT_DUE_POLICY = "FitDuePolicy"
FIT_DUE_LOG_GROUP = "FitDueLogGroup"


def _fit_due_policy(resets: bool) -> dict:
    policy = data_policy("fit_due", "QueueDueFits", resets, {})
    policy["Properties"]["PolicyDocument"]["Statement"] += [send_statement([QUEUE]),
                                                            *logs_and_traces(FIT_DUE_LOG_GROUP)]
    return policy


def fit_due_resources(function_properties: dict, retention_days: int, protected: bool,
                      resets: bool) -> Dict[str, dict]:
    """Chalice's nightly scheduled function, which queues the fits due, with its own role."""
    variables = {**function_properties["Environment"]["Variables"], "FIT_QUEUE_URL": {"Ref": QUEUE}}
    return {
        FIT_DUE: {
            "DependsOn": [FIT_DUE_POLICY],
            "Metadata": {"checkov": {"skip": [{"id": id_, "comment": comment} for id_, comment in [
                ("CKV_AWS_116", "No DLQ: a failed night's learners are queued by the next night"),
                *SKIPS[1:]]]}},
            "Properties": {**function_properties, "FunctionName": {"Fn::Sub": "${AWS::StackName}-fit-due"},
                           "Timeout": 900, "Environment": {"Variables": variables}},
        },
        FIT_DUE_ROLE: {"Properties": {"Policies": []}},
        FIT_DUE_POLICY: _fit_due_policy(resets),
        FIT_DUE_LOG_GROUP: log_group({"Fn::Sub": "/aws/lambda/${AWS::StackName}-fit-due"}, retention_days,
                                     protected),
    }


def resources(function_properties: dict, retention_days: int, protected: bool,
              resets: bool) -> Dict[str, dict]:
    """``function_properties``: what the API function gets too (runtime, architecture, the
    tables' names); ``resets``: whether the stage lets learners reset their history."""
    variables = {**function_properties["Environment"]["Variables"], "FITTER_FUNCTION": {"Ref": FITTER},
                 "RECOMPUTE_QUEUE_URL": {"Ref": RECOMPUTE_QUEUE}}
    return {
        **recompute_resources(function_properties, retention_days, protected, resets),
        **fit_due_resources(function_properties, retention_days, protected, resets),
        FUNCTION: {
            "DependsOn": [POLICY],
            "Metadata": {"checkov": {"skip": [{"id": id_, "comment": comment} for id_, comment in SKIPS]}},
            "Properties": {**function_properties, "FunctionName": FUNCTION_NAME, "Timeout": WORKER_TIMEOUT,
                           "Environment": {"Variables": variables},
                           "Events": {EVENT: {"Type": "SQS", "Properties": {
                               "Queue": {"Fn::GetAtt": [QUEUE, "Arn"]}, "BatchSize": 1,
                               "ScalingConfig": {"MaximumConcurrency": CONCURRENCY}}}}},
        },
        ROLE: {"Properties": {"Policies": []}},
        POLICY: _policy(resets),
        LOG_GROUP: log_group({"Fn::Sub": "/aws/lambda/${AWS::StackName}-fitting"}, retention_days, protected),
        QUEUE: _queue(DEAD_LETTERS, FIT_VISIBILITY_SECONDS, FIT_MAX_RECEIVES),
        DEAD_LETTERS: _dead_letters(),
        "FitFailuresAlarm": alarm(
            "Fits that failed every delivery: the dead-letter queue holds their messages (owner, "
            "requested_at); the learner may ask again once the request expired. Fix the cause, then "
            "redrive the messages to the fit queue.",
            1, [metric("failed", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                        {"QueueName": {"Fn::GetAtt": [DEAD_LETTERS, "QueueName"]}}, "Maximum", True)],
            "GreaterThanOrEqualToThreshold"),
        FITTER: {
            "Type": "AWS::Serverless::Function",
            "Metadata": {"checkov": {"skip": [{"id": id_, "comment": comment}
                                              for id_, comment in FITTER_SKIPS]}},
            "Properties": {"FunctionName": FITTER_NAME, "Runtime": "nodejs22.x", "Architectures": ["x86_64"],
                           "Handler": "handler.handler", "CodeUri": FITTER_CODE, "MemorySize": FITTER_MEMORY,
                           "Timeout": FITTER_TIMEOUT, "Tracing": "PassThrough",
                           "ReservedConcurrentExecutions": CONCURRENCY,
                           "Role": {"Fn::GetAtt": [FITTER_ROLE, "Arn"]}},
        },
        FITTER_ROLE: {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "WriteOwnLogs", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [{
                    "Sid": "WriteOwnLogs", "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": [{"Fn::GetAtt": [FITTER_LOG_GROUP, "Arn"]}]}]}}]}},
        FITTER_LOG_GROUP: log_group({"Fn::Sub": "/aws/lambda/${AWS::StackName}-fitter"}, retention_days,
                                    protected),
    }
