"""`make package`: a CloudFormation (SAM) template with the API, its function, the three
tables and a least-privilege role, from `chalice package` and a rendered merge template.

    python -m devtools.package --stage dev --out out/dev
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.schema import TABLES, create_table_input
from devtools.stage import PROJECT_DIR, stage_environment, table_names

PROTECTED_STAGES = {"prod"}  # point-in-time recovery, deletion protection, tables kept on stack delete
ROLE = "ApiHandlerRole"  # logical ids chalice package gives the role, function and API
FUNCTION = "APIHandler"
API = "RestAPI"
INVOKE_PERMISSION = "APIHandlerInvokePermission"
LOG_GROUP = "FunctionLogGroup"
LOG_RETENTION_DAYS = 30
# The DynamoDB actions chalicelib.store calls, per table; nothing else is granted.
# A review's TransactWriteItems is authorised item by item (ConditionCheckItem, PutItem, UpdateItem).
ACTIONS = {
    "groups": ["dynamodb:BatchGetItem", "dynamodb:Scan"],
    "study_activities": ["dynamodb:BatchGetItem", "dynamodb:Scan"],
    "words": ["dynamodb:BatchGetItem", "dynamodb:Scan", "dynamodb:ConditionCheckItem"],
    "study_sessions": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem",
                       "dynamodb:UpdateItem"],
    "word_reviews": ["dynamodb:PutItem"],
}
# API Gateway answers these itself, before the function runs: in the service's error shape too.
GATEWAY_ERRORS = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", '"No route matches this method and path."'),
    "THROTTLED": (429, "throttled", "$context.error.messageString"),
    "DEFAULT_4XX": (None, "request_refused", "$context.error.messageString"),
    "DEFAULT_5XX": (None, "gateway_error", "$context.error.messageString"),
}


def logical_id(name: str) -> str:
    return "".join(part.title() for part in name.split("_")) + "Table"


def table_resource(name: str, table_name: str, protected: bool) -> dict:
    properties = {
        **create_table_input(TABLES[name], table_name),
        "SSESpecification": {"SSEEnabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": protected},
        "DeletionProtectionEnabled": protected,
    }
    policy = "Retain" if protected else "Delete"
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": policy,
        "UpdateReplacePolicy": policy,
        "Properties": properties,
    }


def dynamodb_policy() -> dict:
    statements = []
    for name, actions in ACTIONS.items():
        arn = {"Fn::GetAtt": [logical_id(name), "Arn"]}
        resources = [arn]
        if TABLES[name].indexes:
            resources.append({"Fn::Sub": f"${{{logical_id(name)}.Arn}}/index/*"})
        statements.append({
            "Sid": logical_id(name), "Effect": "Allow", "Action": actions, "Resource": resources,
        })
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "DynamoDBAccess",
            "Roles": [{"Ref": ROLE}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
        },
    }


def function_log_group(protected: bool) -> dict:
    """Declared, so it has a retention and the role can be granted this group alone."""
    policy = "Retain" if protected else "Delete"
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": policy,
        "UpdateReplacePolicy": policy,
        "Properties": {
            "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{FUNCTION}}}"},
            "RetentionInDays": LOG_RETENTION_DAYS,
        },
    }


def logs_policy() -> dict:
    """Writing to the function's own log group: the group exists, so no CreateLogGroup."""
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "WriteOwnLogs",
            "Roles": [{"Ref": ROLE}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "WriteOwnLogs", "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [{"Fn::GetAtt": [LOG_GROUP, "Arn"]}],
            }]},
        },
    }


def gateway_responses(allowed_origin: str) -> dict:
    responses = {}
    for kind, (status, code, message) in GATEWAY_ERRORS.items():
        response = {
            "ResponseParameters": {"Headers": {"Access-Control-Allow-Origin": f"'{allowed_origin}'"}},
            "ResponseTemplates": {"application/json": f'{{"error": {message}, "code": "{code}"}}'},
        }
        if status:
            response["StatusCode"] = str(status)
        responses[kind] = response
    return responses


def merge_template(stage: str) -> dict:
    names = table_names(stage)
    protected = stage in PROTECTED_STAGES
    resources = {
        logical_id(name): table_resource(name, names[name], protected) for name in TABLES
    }
    resources["DynamoDBAccessPolicy"] = dynamodb_policy()
    resources["LogsPolicy"] = logs_policy()
    resources[LOG_GROUP] = function_log_group(protected)
    # The role's only permissions are the two policies above (they name resources of this
    # stack, which the role's inline policy cannot without a cycle through the function).
    resources[ROLE] = {"Properties": {"Policies": []}}
    # API Gateway may invoke the function only once both policies are attached.
    resources[INVOKE_PERMISSION] = {"DependsOn": ["DynamoDBAccessPolicy", "LogsPolicy"]}
    resources[FUNCTION] = {
        "Properties": {
            "Environment": {
                "Variables": {table.env_var: {"Ref": logical_id(name)} for name, table in TABLES.items()}
            }
        }
    }
    allowed_origin = stage_environment(stage).get("CORS_ALLOW_ORIGIN", "*")
    resources[API] = {"Properties": {"GatewayResponses": gateway_responses(allowed_origin)}}
    return {"Resources": resources}


def package(stage: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    merge_file = out.parent / f"merge-template-{stage}.json"
    merge_file.write_text(json.dumps(merge_template(stage), indent=2))
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    subprocess.run(
        [str(Path(sys.executable).parent / "chalice"), "package", "--stage", stage,
         "--merge-template", str(merge_file), str(out)],
        cwd=PROJECT_DIR, env=env, check=True,
    )
    return out / "sam.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    template = package(args.stage, (args.out or PROJECT_DIR / "out" / args.stage).resolve())
    print(f"Template: {template}\nZip: {template.parent / 'deployment.zip'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
