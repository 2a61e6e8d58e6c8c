"""`make package` builds a deployable, lint-clean template offline, with least-privilege IAM."""
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from chalicelib.config import resets_enabled
from chalicelib.http import ROUTABLE_METHODS
from chalicelib.storage.access import FUNCTIONS
from chalicelib.storage.schema import TABLES, create_table_input
from devtools.monitoring import ACCESS_LOG_GROUP
from devtools.package import LOG_GROUP, logical_id
from devtools.policies import ROLES
from devtools.stage import PROJECT_DIR, operations, stage_environment, stage_setting, table_names
from tests.conftest import packaged as packaged_output

# sources and bytecode: the app, Chalice, the scheduler (fsrs, typing_extensions); 544 KiB since the
# learner's scheduler (issue 39: its service, repository, recompute and adoption, ~35 KB) took it past 512;
# 576 KiB since the fitting and recompute functions (their queues, worker and fitter port, ~23 KB) share
# the zip: the API does not import them, and its cold start is the same
MAX_ZIP_BYTES = 576 * 1024


@pytest.fixture(scope="module", params=["dev", "prod"])
def packaged(request):
    """The output of `make package` for a stage, with no credentials and a dummy region."""
    out, template = packaged_output(request.param)
    return request.param, out, template


def policy_statements(template, role=None):
    """Every statement the template grants, or only those of one role."""
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role" and role in (None, name):
            for policy in resource["Properties"].get("Policies", []):
                yield from policy["PolicyDocument"]["Statement"]
        if resource["Type"] == "AWS::IAM::Policy" and (
                role is None or {"Ref": role} in resource["Properties"]["Roles"]):
            yield from resource["Properties"]["PolicyDocument"]["Statement"]


def test_cfn_lint_finds_nothing(packaged):
    _, out, _ = packaged

    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(out / "sam.json")],
                            capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr


def test_tables_are_built_from_the_one_definition(packaged):
    stage, _, template = packaged
    names = table_names(stage)

    for name, table in TABLES.items():
        properties = template["Resources"][logical_id(name)]["Properties"]
        expected = create_table_input(table, names[name])
        expected.get("StreamSpecification", {}).pop("StreamEnabled", None)  # not a CloudFormation property
        assert {key: properties[key] for key in expected} == expected
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["SSESpecification"] == {"SSEEnabled": True}


def test_only_prod_tables_are_protected_and_kept(packaged):
    stage, _, template = packaged
    protected = stage == "prod"

    for name in TABLES:
        resource = template["Resources"][logical_id(name)]
        assert resource["Properties"]["DeletionProtectionEnabled"] is protected
        assert resource["Properties"]["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": protected
        }
        assert resource["DeletionPolicy"] == ("Retain" if protected else "Delete")


def test_the_function_finds_its_tables_by_ref(packaged):
    _, _, template = packaged
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]

    for name, table in TABLES.items():
        assert variables[table.env_var] == {"Ref": logical_id(name)}


def granted(template, role, prefix=""):
    """(action, resource) pairs the role grants, resources as the template writes them."""
    return {(action, json.dumps(resource)) for statement in policy_statements(template, role)
            for action in statement["Action"] for resource in statement["Resource"]
            if action.startswith(prefix)}


def declared(function, stage):
    """What chalicelib.storage.access declares for a function on a stage, as template resources."""
    resets = resets_enabled(stage_environment(stage))
    pairs = set()
    for table, grant in FUNCTIONS[function].tables.items():
        arn = json.dumps({"Fn::GetAtt": [logical_id(table), "Arn"]})
        pairs |= {(f"dynamodb:{a}", arn) for a in grant.actions + (grant.with_resets if resets else ())}
        pairs |= {("dynamodb:Query", json.dumps({"Fn::Sub": f"${{{logical_id(table)}.Arn}}/index/{index}"}))
                  for index in grant.indexes}
    return pairs


def test_each_role_s_table_access_is_what_chalicelib_access_declares_for_its_function(packaged):
    stage, _, template = packaged
    stream_reads = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams"}

    for function, role in ROLES.items():
        tables = {(a, r) for a, r in granted(template, role, "dynamodb:") if a not in stream_reads}
        assert tables == declared(function, stage), function
    assert not any("*" in action for statement in policy_statements(template)
                   for action in statement["Action"])


def test_resets_are_granted_only_where_the_stage_allows_them(packaged):
    stage, _, template = packaged
    reset_grants = {(f"dynamodb:{a}", json.dumps({"Fn::GetAtt": [logical_id(table), "Arn"]}))
                    for table, grant in FUNCTIONS["purge"].tables.items() for a in grant.with_resets}

    assert reset_grants  # the purge saves a reset's progress
    assert (reset_grants <= granted(template, "PurgeRole")) == (stage != "prod")


def test_the_api_s_other_permissions_are_its_log_group_and_x_ray_never_the_user_pool(packaged):
    stage, _, template = packaged
    pool_arn = {"Fn::If": ["CreateLearnerPool", {"Fn::GetAtt": ["LearnerPool", "Arn"]},
                           {"Ref": "LearnerPoolArn"}]}

    assert granted(template, "ApiHandlerRole") - granted(template, "ApiHandlerRole", "dynamodb:") == {
        ("logs:CreateLogStream", json.dumps({"Fn::GetAtt": [LOG_GROUP, "Arn"]})),
        ("logs:PutLogEvents", json.dumps({"Fn::GetAtt": [LOG_GROUP, "Arn"]})),
        ("xray:PutTelemetryRecords", '"*"'), ("xray:PutTraceSegments", '"*"'),
        # a fit request and a change's recompute handed to their queues
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["FitQueue", "Arn"]})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["RecomputeQueue", "Arn"]})),
    }
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["USER_POOL_ID"] == {"Fn::Select": [1, {"Fn::Split": ["/", pool_arn]}]}
    log_group = template["Resources"][LOG_GROUP]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    function_name = template["Resources"]["APIHandler"]["Properties"]["FunctionName"]["Fn::Sub"]
    assert log_group["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{function_name}"}
    assert log_group["Properties"]["RetentionInDays"] == operations(stage)["log_retention_days"]
    assert template["Resources"]["ApiHandlerRole"]["Properties"]["Policies"] == []


def test_every_statement_names_its_resources_without_wildcard_tables_or_accounts(packaged):
    _, _, template = packaged

    for statement in policy_statements(template):
        assert isinstance(statement["Resource"], list) and statement["Resource"], statement
        if all(action.startswith("xray:") for action in statement["Action"]) or statement["Action"] == [
                "dynamodb:ListStreams"]:
            assert statement["Resource"] == ["*"]  # these have no resource-level permissions
            continue
        for resource in statement["Resource"]:
            # Fn::If: the stack's own pool, or the one its LearnerPoolArn parameter names
            assert set(resource) <= {"Fn::GetAtt", "Fn::Sub", "Fn::If"}, resource
            if "Fn::Sub" in resource:  # an index, by its own name
                table, _, index = resource["Fn::Sub"].partition(".Arn}/index/")
                names = {i.name for t in TABLES.values() for i in t.indexes + t.local_indexes}
                assert index in names, resource


def test_the_api_can_invoke_the_function_only_once_its_policies_are_attached(packaged):
    _, _, template = packaged
    permission = template["Resources"]["APIHandlerInvokePermission"]

    assert set(permission["DependsOn"]) == {"DataAccessPolicy", "LogsPolicy", "TracingPolicy"}


def test_the_function_is_created_only_once_its_policies_are_attached(packaged):
    """Tracing: Active fails to create a function whose role cannot write traces yet."""
    _, _, template = packaged
    function = template["Resources"]["APIHandler"]

    assert function["Properties"]["Tracing"] == "Active"
    assert set(function["DependsOn"]) == {"DataAccessPolicy", "LogsPolicy", "TracingPolicy"}


def test_the_function_runs_python_3_13_on_graviton(packaged):
    _, _, template = packaged
    properties = template["Resources"]["APIHandler"]["Properties"]

    assert (properties["Runtime"], properties["Architectures"]) == ("python3.13", ["arm64"])


def test_every_path_answers_every_method_from_the_function(packaged):
    """API Gateway itself would answer a method without an integration with 403/404, not 405."""
    _, _, template = packaged
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]

    for path, methods in paths.items():
        assert set(methods) == {m.lower() for m in ROUTABLE_METHODS} | {"options"}, path
        for method, operation in methods.items():
            if method != "options":
                assert operation["x-amazon-apigateway-integration"]["type"] == "aws_proxy"


def test_the_lambda_zip_holds_only_the_app_and_stays_small(packaged):
    _, out, _ = packaged
    listing = subprocess.run([sys.executable, "-m", "zipfile", "-l", str(out / "deployment.zip")],
                             capture_output=True, text=True, check=True).stdout
    files = [line.split()[0] for line in listing.splitlines()[1:]]

    assert (out / "deployment.zip").stat().st_size < MAX_ZIP_BYTES
    vendored = ("fsrs/", "fsrs-", "typing_extensions", "__pycache__/typing_extensions.")  # requirements.txt
    assert all(f.startswith(("app.py", "__pycache__/app.", "chalicelib/", "chalice/", *vendored))
               for f in files), files
    assert all(f.endswith((".py", ".pyc")) or f.startswith(vendored) for f in files), files
    assert any(f.startswith("fsrs/scheduler.py") for f in files)
    assert not any(f.startswith(("boto3/", "botocore/")) for f in files)


def test_the_zip_carries_the_app_compiled_for_the_runtime_when_built_on_it(packaged):
    _, out, template = packaged
    runtime = template["Resources"]["APIHandler"]["Properties"]["Runtime"]
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        names = set(archive.namelist())
    sources = {name for name in names if name.endswith(".py")}

    tag = sys.implementation.cache_tag
    compiled = {name for name in names if name.endswith(f".{tag}.pyc")}
    if f"python{sys.version_info.major}.{sys.version_info.minor}" == runtime:
        assert compiled == {importlib.util.cache_from_source(name) for name in sources}
    else:
        assert compiled == set()  # bytecode of another Python would be dead weight


def test_checkov_finds_nothing_unexplained(packaged):
    _, out, _ = packaged
    checkov = PROJECT_DIR / ".venv-scan" / "bin" / "checkov"

    result = subprocess.run([str(checkov), "-f", str(out / "sam.json"), "--framework", "cloudformation",
                             "--skip-download", "--output", "json"],
                            capture_output=True, text=True, timeout=300)

    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 0, result.stdout[-3000:]
    assert result.returncode == 0
    for skipped in report["results"]["skipped_checks"]:
        assert skipped["check_result"]["suppress_comment"], skipped  # every skip says why


def test_function_and_api_stage_are_traced_with_x_ray(packaged):
    _, _, template = packaged

    assert template["Resources"]["APIHandler"]["Properties"]["Tracing"] == "Active"
    assert template["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] is True


def test_the_api_writes_one_json_access_log_line_per_request_to_its_own_group(packaged):
    stage, _, template = packaged
    setting = template["Resources"]["RestAPI"]["Properties"]["AccessLogSetting"]

    assert setting["DestinationArn"] == {"Fn::GetAtt": [ACCESS_LOG_GROUP, "Arn"]}
    line = json.loads(setting["Format"])
    assert set(line) >= {"requestId", "sourceIp", "method", "path", "status", "latencyMs",
                         "responseLength", "integrationStatus"}
    assert all(value.startswith("$context.") for value in line.values())
    group = template["Resources"][ACCESS_LOG_GROUP]["Properties"]
    assert group["RetentionInDays"] == operations(stage)["log_retention_days"]


def test_the_stage_is_throttled_and_the_function_s_concurrency_reserved(packaged):
    stage, _, template = packaged
    limits = operations(stage)

    [setting] = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert setting == {"ResourcePath": "/*", "HttpMethod": "*",
                       "ThrottlingRateLimit": limits["throttle_rate_limit"],
                       "ThrottlingBurstLimit": limits["throttle_burst_limit"]}
    functions = stage_setting(stage, "lambda_functions")
    reserved = {name: template["Resources"][name]["Properties"].get("ReservedConcurrentExecutions")
                for name in ("APIHandler", "Aggregates", "Purge")}
    assert reserved == {"APIHandler": functions["api_handler"]["reserved_concurrency"],
                        "Aggregates": functions["aggregates"]["reserved_concurrency"], "Purge": 1}
    assert stage_setting(stage, "reserved_concurrency") is None  # it would reserve as much for each
    # what the account must have: the reservations and the 100 that Lambda keeps unreserved
    assert sum(reserved.values()) + 100 <= {"dev": 115, "prod": 211}[stage]


def test_a_throttled_request_gets_the_json_error_shape_with_429_and_cors(packaged):
    stage, _, template = packaged
    throttled = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]["THROTTLED"]

    assert throttled["StatusCode"] == "429"
    origin = stage_environment(stage)["CORS_ALLOW_ORIGIN"]
    assert throttled["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == f"'{origin}'"
    body = throttled["ResponseTemplates"]["application/json"].replace(
        "$context.error.messageString", '"Too Many Requests"')
    assert json.loads(body) == {"error": "Too Many Requests", "code": "throttled"}


def alarm_metrics(template, name):
    alarm = template["Resources"][name]
    assert alarm["Type"] == "AWS::CloudWatch::Alarm"
    return alarm["Properties"], [m["MetricStat"]["Metric"] for m in alarm["Properties"]["Metrics"]
                                 if "MetricStat" in m]


def summed_alarms_metrics(template, name):
    """The metrics of the alarms `name`, `name2`, …, each of at most 10 metrics summed as "total"."""
    names = [name] + [f"{name}{n}" for n in range(2, 10) if f"{name}{n}" in template["Resources"]]
    metrics = []
    for each in names:
        props, found = alarm_metrics(template, each)
        assert len(props["Metrics"]) <= 10  # CloudWatch's limit for one alarm
        assert [m["Id"] for m in props["Metrics"] if m["ReturnData"]] == ["total"]
        metrics += found
    return metrics


def test_alarms_watch_5xx_rate_function_errors_and_throttles_and_table_throttles(packaged):
    stage, _, template = packaged

    props, [metric] = alarm_metrics(template, "Api5xxRateAlarm")
    assert (metric["Namespace"], metric["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    api = template["Resources"]["RestAPI"]["Properties"]
    # API Gateway names its metrics by the API's name: the alarm must name the same.
    assert {"Name": "ApiName", "Value": api["Name"]} in metric["Dimensions"]
    assert api["DefinitionBody"]["info"]["title"] == api["Name"] == {"Ref": "AWS::StackName"}
    assert {"Name": "Stage", "Value": stage} in metric["Dimensions"]
    assert props["Metrics"][0]["MetricStat"]["Stat"] == "Average" and props["Threshold"] == 0.01
    for name, metric_name in (("FunctionErrorsAlarm", "Errors"), ("FunctionThrottlesAlarm", "Throttles")):
        _, [metric] = alarm_metrics(template, name)
        assert (metric["Namespace"], metric["MetricName"]) == ("AWS/Lambda", metric_name)
        assert metric["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "APIHandler"}}]
    metrics = summed_alarms_metrics(template, "DynamoDBThrottlesAlarm")
    watched = {json.dumps(d["Value"]) for m in metrics for d in m["Dimensions"]}
    assert watched == {json.dumps({"Ref": logical_id(name)}) for name in TABLES}


def test_index_throttles_have_an_alarm_of_their_own_covering_every_index(packaged):
    """A table's ThrottleEvents leave out its global secondary indexes."""
    _, _, template = packaged

    metrics = summed_alarms_metrics(template, "DynamoDBIndexThrottlesAlarm")

    watched = {(json.dumps(dimensions["TableName"]), dimensions["GlobalSecondaryIndexName"], m["MetricName"])
               for m in metrics for dimensions in [{d["Name"]: d["Value"] for d in m["Dimensions"]}]}
    assert watched == {(json.dumps({"Ref": logical_id(name)}), index.name, f"{kind}ThrottleEvents")
                       for name, table in TABLES.items() for index in table.indexes
                       for kind in ("Read", "Write")}


def test_alarms_notify_the_optional_sns_topic(packaged):
    _, _, template = packaged
    alarms = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]

    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""
    # the throttle sums of 7 tables and 5 indexes take two alarms each; the fit and recompute queues'
    # dead letters one each
    assert len(alarms) == 12
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == {
            "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


STREAMED = ("study_sessions", "word_reviews", "memories")


def test_the_consumer_reads_three_streams_as_aws_runs_a_stream_consumer(packaged):
    _, _, template = packaged
    consumer = template["Resources"]["Aggregates"]
    events = consumer["Properties"]["Events"]

    assert consumer["Properties"]["Handler"] == "app.count_new_sessions_and_reviews"
    by_table = {e["Properties"]["Stream"]["Fn::GetAtt"][0]: e["Properties"] for e in events.values()}
    assert sorted(by_table) == sorted(logical_id(name) for name in STREAMED)
    filters = {table: json.loads(properties["FilterCriteria"]["Filters"][0]["Pattern"])
               for table, properties in by_table.items()}
    assert filters == {
        logical_id("study_sessions"): {"eventName": ["INSERT"]},
        logical_id("word_reviews"): {"eventName": ["INSERT"]},
        # a memory item a round committed, by the flag beside the reviews it carries
        logical_id("memories"): {"eventName": ["INSERT", "MODIFY"],
                                 "dynamodb": {"NewImage": {"round_committed": {"BOOL": [True]}}}}}
    for event in events.values():
        properties = event["Properties"]
        assert event["Type"] == "DynamoDB"
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert properties["BisectBatchOnFunctionError"] is True
        assert 0 < properties["MaximumRetryAttempts"] <= 10
        assert properties["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["AggregatesFailuresQueue", "Arn"]}
    for name in STREAMED:
        table = template["Resources"][logical_id(name)]["Properties"]
        assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}


def test_the_consumer_s_role_reads_the_streams_and_writes_the_aggregates_figures_and_cut_short_rounds(
        packaged):
    _, _, template = packaged

    grants = granted(template, "AggregatesRole")

    streams = {json.dumps({"Fn::GetAtt": [logical_id(n), "StreamArn"]}) for n in STREAMED}
    assert {(a, r) for a, r in grants if a.startswith("dynamodb:")} == {
        *((action, stream) for stream in streams
          for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")),
        ("dynamodb:ListStreams", '"*"'),
        ("dynamodb:BatchGetItem", json.dumps({"Fn::GetAtt": [logical_id("aggregates"), "Arn"]})),
        ("dynamodb:PutItem", json.dumps({"Fn::GetAtt": [logical_id("aggregates"), "Arn"]})),
        ("dynamodb:UpdateItem", json.dumps({"Fn::GetAtt": [logical_id("aggregates"), "Arn"]})),
        # a review's count and end_time on its session, and the session's end_time read first
        ("dynamodb:BatchGetItem", json.dumps({"Fn::GetAtt": [logical_id("study_sessions"), "Arn"]})),
        ("dynamodb:UpdateItem", json.dumps({"Fn::GetAtt": [logical_id("study_sessions"), "Arn"]})),
        # a committed round's reviews a crash left unwritten, looked up and written
        ("dynamodb:BatchGetItem", json.dumps({"Fn::GetAtt": [logical_id("word_reviews"), "Arn"]})),
        ("dynamodb:PutItem", json.dumps({"Fn::GetAtt": [logical_id("word_reviews"), "Arn"]})),
    }
    assert {(a, r) for a, r in grants if not a.startswith(("dynamodb:", "xray:"))} == {
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["AggregatesFailuresQueue", "Arn"]})),
        ("logs:CreateLogStream", json.dumps({"Fn::GetAtt": ["AggregatesLogGroup", "Arn"]})),
        ("logs:PutLogEvents", json.dumps({"Fn::GetAtt": ["AggregatesLogGroup", "Arn"]})),
    }
    assert template["Resources"]["AggregatesRole"]["Properties"]["Policies"] == []
    assert template["Resources"]["Aggregates"]["DependsOn"] == ["AggregatesPolicy"]


def test_the_consumer_s_failures_and_lag_have_alarms(packaged):
    _, _, template = packaged

    _, [failed] = alarm_metrics(template, "AggregatesFailuresAlarm")
    _, [age] = alarm_metrics(template, "AggregatesIteratorAgeAlarm")

    assert (failed["Namespace"], failed["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert failed["Dimensions"] == [{"Name": "QueueName",
                                     "Value": {"Fn::GetAtt": ["AggregatesFailuresQueue", "QueueName"]}}]
    assert (age["Namespace"], age["MetricName"]) == ("AWS/Lambda", "IteratorAge")
    assert age["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "Aggregates"}}]


def test_the_purge_runs_on_a_schedule_with_only_the_deletes_it_makes(packaged):
    stage, _, template = packaged
    purge = template["Resources"]["Purge"]

    grants = granted(template, "PurgeRole")

    pool_arn = {"Fn::If": ["CreateLearnerPool", {"Fn::GetAtt": ["LearnerPool", "Arn"]},
                           {"Ref": "LearnerPoolArn"}]}

    assert {(a, r) for a, r in grants if a.startswith("dynamodb:")} == declared("purge", stage)
    assert declared("purge", stage) >= {("dynamodb:Query", json.dumps(
        {"Fn::Sub": "${AggregatesTable.Arn}/index/purges"}))}  # what is pending, from its sparse index
    assert not any(a == "dynamodb:Scan" for a, _ in grants)  # each learner's own partitions only
    # an erased learner's account, found by its sub and deleted: on the stage's own pool only
    assert {(a, r) for a, r in grants if a.startswith("cognito-idp:")} == {
        ("cognito-idp:ListUsers", json.dumps(pool_arn)),
        ("cognito-idp:AdminDeleteUser", json.dumps(pool_arn))}
    variables = purge["Properties"]["Environment"]["Variables"]
    assert variables["USER_POOL_ID"] == {"Fn::Select": [1, {"Fn::Split": ["/", pool_arn]}]}
    assert purge["Properties"]["Handler"] == "app.purge_reset_histories"
    assert purge["Properties"]["Events"]["PurgeEvent"] == {"Type": "Schedule",
                                                           "Properties": {"Schedule": "rate(15 minutes)"}}
    assert purge["Properties"]["ReservedConcurrentExecutions"] == 1  # two runs would delete the same items
    assert template["Resources"]["PurgeRole"]["Properties"]["Policies"] == []
    _, [errors] = alarm_metrics(template, "PurgeErrorsAlarm")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "Purge"}}]



def test_learner_routes_need_the_stage_s_user_pool_and_reference_data_is_public(packaged):
    _, _, template = packaged
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    authorizer = body["securityDefinitions"]["learners"]["x-amazon-apigateway-authorizer"]
    document = yaml.safe_load((PROJECT_DIR / "openapi.yaml").read_text())

    assert authorizer["providerARNs"] == [
        {"Fn::If": ["CreateLearnerPool", {"Fn::GetAtt": ["LearnerPool", "Arn"]}, {"Ref": "LearnerPoolArn"}]}]
    for path, methods in document["paths"].items():  # the document says which routes are public
        for method, operation in methods.items():
            expected = None if operation.get("security") == [] else [{"learners": []}]
            assert body["paths"][path][method].get("security") == expected, (path, method)
    client = template["Resources"]["LearnerPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
                                                "ALLOW_REFRESH_TOKEN_AUTH"}
    assert template["Resources"]["LearnerPool"]["Condition"] == "CreateLearnerPool"
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["LEARNER_CLIENT_IDS"] == {"Ref": "LearnerPoolClient"}
    assert variables["AUTH_MODE"] == "cognito"


def test_no_method_of_a_learner_path_reaches_the_function_without_sign_in(packaged):
    """The 405s of methods a learner path does not serve carry its authorizer too."""
    _, _, template = packaged
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]

    for path, methods in paths.items():
        signed = [m for m, op in methods.items() if m != "options" and op.get("security")]
        if signed:
            assert all(op.get("security") == [{"learners": []}]
                       for m, op in methods.items() if m != "options"), path
    assert paths["/api/study-sessions"]["head"]["security"] == [{"learners": []}]
    assert paths["/dashboard/stats"]["put"]["security"] == [{"learners": []}]
    assert "security" not in paths["/api/groups"]["put"]  # reference data stays public


def test_the_user_pool_mails_through_an_optional_ses_identity(packaged):
    _, _, template = packaged
    mail = template["Resources"]["LearnerPool"]["Properties"]["EmailConfiguration"]
    parameters = template["Parameters"]

    assert parameters["LearnerMailSesIdentityArn"]["Default"] == ""
    assert mail["Fn::If"][0] == "LearnerMailBySes"
    assert mail["Fn::If"][1]["SourceArn"] == {"Ref": "LearnerMailSesIdentityArn"}
    assert mail["Fn::If"][1]["EmailSendingAccount"] == "DEVELOPER"
    assert mail["Fn::If"][2] == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    assert template["Conditions"]["LearnerMailBySes"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "LearnerMailSesIdentityArn"}, ""]}]}


def test_a_gateway_401_or_403_has_the_json_error_shape_with_cors(packaged):
    stage, _, template = packaged
    responses = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    origin = stage_environment(stage)["CORS_ALLOW_ORIGIN"]

    for kind, status, code in (("UNAUTHORIZED", "401", "unauthorized"),
                               ("ACCESS_DENIED", "403", "forbidden")):
        response = responses[kind]
        assert response["StatusCode"] == status
        assert response["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == f"'{origin}'"
        assert f'"code": "{code}"' in response["ResponseTemplates"]["application/json"]


def test_a_stage_without_sign_in_is_not_packaged(tmp_path):
    from devtools.package import package

    with pytest.raises(SystemExit, match="AUTH_MODE=none"):
        package("local", tmp_path)


@pytest.mark.parametrize("stage, phrase", [("local", "stage local has AUTH_MODE=none"),
                                           ("nowhere", "there is no stage 'nowhere'")])
def test_make_package_refuses_a_stage_it_cannot_deploy_in_one_sentence(stage, phrase):
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-1"}

    result = subprocess.run(["make", "--no-print-directory", "package", f"STAGE={stage}"], cwd=PROJECT_DIR,
                            env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert phrase in result.stderr
    assert "Traceback" not in result.stderr and "invalid choice" not in result.stderr


def test_the_stack_outputs_what_a_frontend_needs_and_frontend_config_prints_it(packaged):
    from devtools.frontend_config import OUTPUTS, dotenv, from_outputs

    _, _, template = packaged
    outputs = template["Outputs"]
    deployed = {"EndpointURL": "https://abc123.execute-api.eu-west-1.amazonaws.com/dev/",
                "Region": "eu-west-1", "LearnerPoolId": "eu-west-1_AbCdEf",
                "LearnerPoolClientId": "4kq7d2example", "LearnerPoolArn": "x"}

    assert set(OUTPUTS.values()) <= set(outputs)
    assert outputs["Region"] == {"Value": {"Ref": "AWS::Region"}}
    assert outputs["LearnerPoolId"]["Value"]["Fn::Select"][0] == 1
    assert dotenv(from_outputs(deployed)) == (
        "VITE_API_BASE_URL=https://abc123.execute-api.eu-west-1.amazonaws.com/dev\n"
        "VITE_AWS_REGION=eu-west-1\nVITE_USER_POOL_ID=eu-west-1_AbCdEf\nVITE_USER_POOL_CLIENT_ID=4kq7d2example\n")


def test_frontend_config_for_local_names_make_run_and_no_local_cognito_unless_one_answers(tmp_path):
    """With a local Cognito answering: tests/test_local_cognito.py."""
    from devtools.dynamodb_local import free_port
    from devtools.frontend_config import local

    cognito = tmp_path / "local-cognito.json"
    assert local(8000, cognito) == {"VITE_API_BASE_URL": "http://127.0.0.1:8000"}
    cognito.write_text(json.dumps({"region": "us-east-1", "user_pool_id": "us-east-1_x", "client_id": "c",
                                   "endpoint": f"http://127.0.0.1:{free_port()}"}))  # nothing answers there
    assert local(8000, cognito) == {"VITE_API_BASE_URL": "http://127.0.0.1:8000"}


NEEDS_A_STAGE = ("make frontend-config needs a stage: STAGE=dev or STAGE=prod for a deployed stack's "
                 "settings (with the AWS credentials and region of the environment), or STAGE=local for make "
                 "run's (with AUTH=cognito make run running, for sign-in).\n")


@pytest.mark.parametrize("arguments, stage_in_environment, sentence", [
    ([], None, NEEDS_A_STAGE),
    (["STAGE="], None, NEEDS_A_STAGE),
    ([], "", NEEDS_A_STAGE),
    (["STAGE=dev"], None, "Reading stack study-sessions-dev needs an AWS region: export "
                          "AWS_DEFAULT_REGION=<the stack's region>.\n"),
])
def test_frontend_config_without_a_stage_or_a_region_says_what_it_needs_in_one_sentence(
        arguments, stage_in_environment, sentence):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "STAGE"},
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    if stage_in_environment is not None:
        env["STAGE"] = stage_in_environment

    result = subprocess.run(["make", "--no-print-directory", "frontend-config", *arguments], cwd=PROJECT_DIR,
                            env=env, capture_output=True, text=True, timeout=120)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(sentence)
    assert "Traceback" not in result.stderr


def test_bytecode_left_in_chalicelib_by_another_python_is_not_packaged(tmp_path):
    from devtools.package import drop_stale_bytecode

    archive = tmp_path / "deployment.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", "app = 1\n")
        zipped.writestr("chalicelib/storage/store.py", "x = 1\n")
        zipped.writestr("chalicelib/__pycache__/store.cpython-311.pyc", b"stale")

    assert drop_stale_bytecode(archive) == 1
    assert zipfile.ZipFile(archive).namelist() == ["app.py", "chalicelib/storage/store.py"]


def test_fits_and_recomputes_run_off_queues_with_dead_letters_and_alarms(packaged):
    """Each SQS-fed function reads its own encrypted queue, one message at a time; a message that
    failed maxReceiveCount times goes to an encrypted dead-letter queue whose depth has an alarm."""
    from chalicelib.study.scheduler import FIT_MAX_RECEIVES, FIT_VISIBILITY_SECONDS

    _, _, template = packaged
    resources = template["Resources"]
    for function, event, queue, dead, receives in (
            ("Fitting", "FittingSqsEventSource", "FitQueue", "FitDeadLetterQueue", FIT_MAX_RECEIVES),
            ("Recompute", "RecomputeSqsEventSource", "RecomputeQueue", "RecomputeDeadLetterQueue", 5)):
        properties = resources[function]["Properties"]
        assert properties["Events"] == {event: {"Type": "SQS", "Properties": {
            "Queue": {"Fn::GetAtt": [queue, "Arn"]}, "BatchSize": 1, "MaximumBatchingWindowInSeconds": 0,
            "ScalingConfig": {"MaximumConcurrency": 10}}}}
        redrive = resources[queue]["Properties"]["RedrivePolicy"]
        assert redrive == {"deadLetterTargetArn": {"Fn::GetAtt": [dead, "Arn"]}, "maxReceiveCount": receives}
        assert resources[queue]["Properties"]["SqsManagedSseEnabled"] is True
        assert resources[dead]["Properties"]["SqsManagedSseEnabled"] is True
        # SQS's advice for a Lambda source: a visibility timeout of 6 x the function's timeout
        assert resources[queue]["Properties"]["VisibilityTimeout"] >= 6 * properties["Timeout"]
        watching = [r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"
                    and json.dumps({"Fn::GetAtt": [dead, "QueueName"]}) in json.dumps(r)]
        assert len(watching) == 1
    assert resources["FitQueue"]["Properties"]["VisibilityTimeout"] == FIT_VISIBILITY_SECONDS


def test_the_fitting_engine_is_its_own_node_function_that_only_the_worker_may_invoke(packaged):
    _, out, template = packaged
    resources = template["Resources"]
    fitter = resources["Fitter"]["Properties"]
    assert (fitter["Runtime"], fitter["Architectures"], fitter["Handler"]) == ("nodejs22.x", ["x86_64"],
                                                                              "handler.handler")
    assert fitter["Role"] == {"Fn::GetAtt": ["FitterRole", "Arn"]}
    statements = [s for policy in resources["FitterRole"]["Properties"]["Policies"]
                  for s in policy["PolicyDocument"]["Statement"]]
    assert statements == [{"Sid": "WriteOwnLogs", "Effect": "Allow",
                           "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                           "Resource": [{"Fn::GetAtt": ["FitterLogGroup", "Arn"]}]}]
    invokers = {role for role in ("ApiHandlerRole", "AggregatesRole", "PurgeRole", "FittingRole",
                                  "RecomputeRole", "FitDueRole")
                if any(action == "lambda:InvokeFunction" for action, _ in granted(template, role))}
    assert invokers == {"FittingRole"}
    assert granted(template, "FittingRole", "lambda:") == {
        ("lambda:InvokeFunction", json.dumps({"Fn::GetAtt": ["Fitter", "Arn"]}))}
    variables = resources["Fitting"]["Properties"]["Environment"]["Variables"]
    assert variables["FITTER_FUNCTION"] == {"Ref": "Fitter"}
    assert "FITTER_FUNCTION" not in resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    with zipfile.ZipFile(out / "fitter.zip") as archive:
        names = set(archive.namelist())
    assert {"handler.mjs", "fit.mjs", "package.json",
            "node_modules/@open-spaced-repetition/binding/package.json"} <= names
    assert not any(name.startswith("test/") for name in names)
    assert any(name.endswith(".node") and "linux-x64-gnu" in name for name in names)  # the native build


def test_the_api_reaches_the_fitting_only_through_the_queue_and_does_not_import_it():
    import subprocess

    code = ("import sys, app; app.services; "
            "print(sorted(m for m in sys.modules if m.startswith('chalicelib.streams')))")
    shown = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True,
                           env={**os.environ, **stage_environment("local")}, check=True)
    assert "chalicelib.streams.fitter" not in shown.stdout
    assert "chalicelib.streams.fitting" not in shown.stdout


def test_a_nightly_schedule_queues_the_fits_due(packaged):
    _, _, template = packaged
    function = template["Resources"]["FitDue"]["Properties"]
    schedules = [event for event in function["Events"].values() if event["Type"] == "Schedule"]
    assert [event["Properties"]["Schedule"] for event in schedules] == ["cron(0 3 * * ? *)"]
    assert function["Environment"]["Variables"]["FIT_QUEUE_URL"] == {"Ref": "FitQueue"}
    assert granted(template, "FitDueRole", "sqs:") == {
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["FitQueue", "Arn"]}))}
