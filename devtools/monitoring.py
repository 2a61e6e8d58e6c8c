"""What an operator watches in a deployed stage: log groups with a retention, API Gateway's
access log, and the alarms, which notify an optional SNS topic (the AlarmTopicArn parameter)."""
import json
from typing import Dict, Iterable, Tuple

FUNCTION = "APIHandler"  # chalice package's logical ids
# The function's and the API's names, set in the template (devtools.package): the log group and
# the alarms name them without depending on the resources, so the function can depend on its
# policies, and the API's 5xx alarm watches the API by the name it really has.
FUNCTION_NAME = {"Fn::Sub": "${AWS::StackName}-api"}
API_NAME = {"Ref": "AWS::StackName"}
FUNCTION_LOG_GROUP = "FunctionLogGroup"
ACCESS_LOG_GROUP = "ApiAccessLogGroup"
ALARM_TOPIC = "AlarmTopicArn"
HAS_ALARM_TOPIC = "HasAlarmTopic"
PERIOD_SECONDS = 300
# One JSON line per request; $context variables of API Gateway REST APIs.
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId", "sourceIp": "$context.identity.sourceIp",
    "method": "$context.httpMethod", "path": "$context.path", "status": "$context.status",
    "latencyMs": "$context.responseLatency", "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integration.status", "errorType": "$context.error.responseType",
    "requestTime": "$context.requestTime",
}, separators=(",", ":"))


def log_group(name, retention_days: int, protected: bool) -> dict:
    policy = "Retain" if protected else "Delete"
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": policy,
        "UpdateReplacePolicy": policy,
        "Metadata": {"checkov": {"skip": [{
            "id": "CKV_AWS_158",
            "comment": "Encrypted at rest by CloudWatch Logs; no secrets or bodies: a CMK adds only cost"}]}},
        "Properties": {"LogGroupName": name, "RetentionInDays": retention_days},
    }


def log_groups(retention_days: int, protected: bool) -> Dict[str, dict]:
    return {
        FUNCTION_LOG_GROUP: log_group({"Fn::Sub": "/aws/lambda/${AWS::StackName}-api"}, retention_days,
                                      protected),
        ACCESS_LOG_GROUP: log_group({"Fn::Sub": "/aws/apigateway/${AWS::StackName}/access"},
                                    retention_days, protected),
    }


def alarm(description: str, threshold: float, metrics: list, comparison: str) -> dict:
    actions = {"Fn::If": [HAS_ALARM_TOPIC, [{"Ref": ALARM_TOPIC}], {"Ref": "AWS::NoValue"}]}
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Metrics": metrics,
            "Threshold": threshold,
            "ComparisonOperator": comparison,
            "EvaluationPeriods": 1,
            "TreatMissingData": "notBreaching",
            "AlarmActions": actions,
            "OKActions": actions,
        },
    }


def metric(id_: str, namespace: str, name: str, dimensions: dict, stat: str, return_data: bool) -> dict:
    return {
        "Id": id_,
        "ReturnData": return_data,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name,
                       "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]},
            "Period": PERIOD_SECONDS,
            "Stat": stat,
        },
    }


def _throttle_metrics(prefix: str, uses: Dict[str, Iterable[str]], dimensions) -> list:
    return [
        metric(f"{prefix}{kind.lower()}{n}", "AWS/DynamoDB", f"{kind}ThrottleEvents", dimensions(source),
                "Sum", False)
        for n, (source, kinds) in enumerate(uses.items()) for kind in kinds
    ]


MAX_ALARM_METRICS = 10  # CloudWatch's limit for one alarm, its expression included


def _sum_alarm(description: str, label: str, metrics: list) -> dict:
    total = {"Id": "total", "Expression": f"SUM([{','.join(m['Id'] for m in metrics)}])", "Label": label,
             "ReturnData": True}
    return alarm(description, 1, [*metrics, total], "GreaterThanOrEqualToThreshold")


def _sum_alarms(name: str, description: str, label: str, metrics: list) -> Dict[str, dict]:
    """As many alarms as the metrics need, each summing at most 9 of them: `name`, `name2`, …"""
    size = MAX_ALARM_METRICS - 1
    chunks = [metrics[start:start + size] for start in range(0, len(metrics), size)]
    return {name + (str(n + 1) if n else ""): _sum_alarm(description, f"{label} ({n + 1}/{len(chunks)})"
                                                         if len(chunks) > 1 else label, chunk)
            for n, chunk in enumerate(chunks)}


def alarms(stage: str, table_uses: Dict[str, Iterable[str]],
           index_uses: Dict[Tuple[str, str], Iterable[str]]) -> Dict[str, dict]:
    """``table_uses``: table logical id -> "Read" and/or "Write", as the function uses it;
    ``index_uses``: (table logical id, index name) -> the same. A table's ThrottleEvents leave
    out its indexes, and an alarm takes at most 10 metrics: alarms of their own (as many as the
    metrics need), and only throttles that can happen are summed."""
    api = {"ApiName": API_NAME, "Stage": stage}
    function = {"FunctionName": {"Ref": FUNCTION}}
    return {
        "Api5xxRateAlarm": alarm(
            "More than 1% of API requests answered 5xx over 5 minutes (5XXError average = rate).",
            0.01, [metric("rate", "AWS/ApiGateway", "5XXError", api, "Average", True)],
            "GreaterThanThreshold"),
        "FunctionErrorsAlarm": alarm(
            "The function raised (crashed or timed out) at least 5 times in 5 minutes.",
            5, [metric("errors", "AWS/Lambda", "Errors", function, "Sum", True)],
            "GreaterThanOrEqualToThreshold"),
        "FunctionThrottlesAlarm": alarm(
            "Invocations were refused at the reserved concurrency in the last 5 minutes.",
            1, [metric("throttles", "AWS/Lambda", "Throttles", function, "Sum", True)],
            "GreaterThanOrEqualToThreshold"),
        **_sum_alarms(
            "DynamoDBThrottlesAlarm", "A table throttled reads or writes in the last 5 minutes.",
            "Throttle events, all tables",
            _throttle_metrics("t", table_uses, lambda table: {"TableName": {"Ref": table}})),
        **_sum_alarms(
            "DynamoDBIndexThrottlesAlarm",
            "A global secondary index throttled reads or writes in the last 5 minutes (a create writes "
            "every index of the sessions table; each learner's history is one partition of each).",
            "Throttle events, all indexes",
            _throttle_metrics("i", index_uses, lambda key: {"TableName": {"Ref": key[0]},
                                                           "GlobalSecondaryIndexName": key[1]})),
    }


def alarm_topic() -> dict:
    """The optional parameter and condition the alarms' actions use."""
    return {
        "Parameters": {ALARM_TOPIC: {
            "Type": "String", "Default": "",
            "Description": "SNS topic ARN the alarms notify (state changes to ALARM and OK); empty: none."}},
        "Conditions": {HAS_ALARM_TOPIC: {"Fn::Not": [{"Fn::Equals": [{"Ref": ALARM_TOPIC}, ""]}]}},
    }


def logs_and_traces(log_group: str) -> list:
    """A function's own log streams and X-Ray writes: policy statements for its role."""
    return [
        {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [{"Fn::GetAtt": [log_group, "Arn"]}]},
        # X-Ray's write actions have no resource-level permissions.
        {"Sid": "WriteTraces", "Effect": "Allow",
         "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": ["*"]},
    ]
