"""`make package` builds a deployable, lint-clean template offline, with least-privilege IAM."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.http import ROUTABLE_METHODS
from chalicelib.schema import TABLES, create_table_input
from devtools.package import ACTIONS, LOG_GROUP, logical_id
from devtools.stage import PROJECT_DIR, table_names
from tests.helpers import DynamoDBCalls

MAX_ZIP_BYTES = 64 * 1024


@pytest.fixture(scope="module", params=["dev", "prod"])
def packaged(request):
    """The output of `make package` for a stage, with no credentials and a dummy region."""
    stage = request.param
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_DEFAULT_REGION"] = "eu-west-1"
    subprocess.run(["make", "--no-print-directory", "package", f"STAGE={stage}"], cwd=PROJECT_DIR,
                   env=env, check=True, capture_output=True)
    out = PROJECT_DIR / "out" / stage
    return stage, out, json.loads((out / "sam.json").read_text())


def policy_statements(template):
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                yield from policy["PolicyDocument"]["Statement"]
        if resource["Type"] == "AWS::IAM::Policy":
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


def test_dynamodb_access_is_only_the_called_actions_on_the_three_tables(packaged):
    _, _, template = packaged
    statements = [s for s in policy_statements(template) if any("dynamodb" in a for a in s["Action"])]

    granted = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert all(action.startswith("dynamodb:") and "*" not in action for action in statement["Action"])
        assert statement["Resource"] != "*" and "*" not in statement["Resource"]
        for resource in statement["Resource"]:
            granted[json.dumps(resource)] = set(statement["Action"])
    assert granted == {
        **{json.dumps({"Fn::GetAtt": [logical_id(n), "Arn"]}): set(a) for n, a in ACTIONS.items()},
        json.dumps({"Fn::Sub": "${StudySessionsTable.Arn}/index/*"}): set(ACTIONS["study_sessions"]),
    }


def test_the_other_permissions_are_only_the_function_s_own_log_group(packaged):
    _, _, template = packaged
    others = [s for s in policy_statements(template) if not any("dynamodb" in a for a in s["Action"])]

    assert [(set(s["Action"]), s["Resource"]) for s in others] == [
        ({"logs:CreateLogStream", "logs:PutLogEvents"}, [{"Fn::GetAtt": [LOG_GROUP, "Arn"]}])
    ]
    log_group = template["Resources"][LOG_GROUP]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${APIHandler}"}
    assert log_group["Properties"]["RetentionInDays"] == 30
    assert template["Resources"]["ApiHandlerRole"]["Properties"]["Policies"] == []


def test_every_statement_names_its_resources_without_wildcard_tables_or_accounts(packaged):
    _, _, template = packaged

    for statement in policy_statements(template):
        assert isinstance(statement["Resource"], list) and statement["Resource"], statement
        for resource in statement["Resource"]:
            assert set(resource) <= {"Fn::GetAtt", "Fn::Sub"}, resource
            if "Fn::Sub" in resource:
                assert resource["Fn::Sub"].endswith(".Arn}/index/*"), resource


def test_the_api_can_invoke_the_function_only_once_its_policies_are_attached(packaged):
    _, _, template = packaged
    permission = template["Resources"]["APIHandlerInvokePermission"]

    assert set(permission["DependsOn"]) == {"DynamoDBAccessPolicy", "LogsPolicy"}


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
    assert all(f == "app.py" or f.startswith(("chalicelib/", "chalice/")) for f in files), files
    assert not any(f.startswith(("boto3/", "botocore/")) for f in files)


def test_every_dynamodb_call_the_app_makes_is_granted(api):
    table_of = {api.names[name]: name for name in TABLES}
    with DynamoDBCalls(api.dynamodb) as calls:
        created = api.post({"group_id": 1, "study_activity_id": 1}).json_body
        for path in ["/api/study-sessions", f"/api/study-sessions/{created['id']}", "/api/groups",
                     "/api/groups/1", "/api/groups/1/study-sessions", "/api/study-activities",
                     "/api/study-activities/1", "/api/study-activities/1/study-sessions"]:
            assert api.get(path).status_code == 200
        api.post({"group_id": 1, "study_activity_id": 1}, headers={"Idempotency-Key": "k"})
        api.post({"group_id": 1, "study_activity_id": 1}, headers={"Idempotency-Key": "k"})
        review = f"/api/study-sessions/{created['id']}/review"
        assert api.post({"word_id": 1, "correct": True}, path=review).status_code == 201
        assert api.post({"word_id": 1, "correct": False}, path=review).status_code == 201
        assert api.get("/api/groups/1/words").status_code == 200
        assert api.get(f"/api/study-sessions/{created['id']}").status_code == 200

    used = {(table_of[table], f"dynamodb:{op}") for op, tables in calls.tables for table in tables}
    assert used and all(action in ACTIONS[table] for table, action in used)
