"""`make package`: a CloudFormation (SAM) template with the API, its function, the tables, a
least-privilege role, tracing, logs, limits and alarms, from `chalice package` and a rendered
merge template.

    python -m devtools.package --stage dev --out out/dev
"""
import argparse
import json
import os
import py_compile
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from chalicelib.config import resets_enabled
from chalicelib.learners.identity import SIGN_IN_FIRST
from chalicelib.storage.schema import TABLES, create_table_input
from devtools import consumer_template, fitting_template, learner_pool, monitoring, policies, purge_template
from devtools.stage import PROJECT_DIR, operations, stage_environment, stage_setting, table_names

# Amazon Linux 2023 (python3.11 runs on Amazon Linux 2, whose support ended 2026-06-30), and
# supported to 2029. The zip is pure Python, so Graviton: ~20% less per GB-second than x86_64.
RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # as chalice package writes its entries: the same code, the same zip
PROTECTED_STAGES = {"prod"}  # point-in-time recovery, deletion protection, tables kept on stack delete
ROLE = "ApiHandlerRole"  # logical ids chalice package gives the role, function and API
FUNCTION = "APIHandler"
API = "RestAPI"
INVOKE_PERMISSION = "APIHandlerInvokePermission"
LOG_GROUP = monitoring.FUNCTION_LOG_GROUP
POLICIES = ["DataAccessPolicy", "LogsPolicy", "TracingPolicy"]
# checkov findings that do not fit this service, skipped in the template with the reason.
SKIPS = {
    API: [("CKV_AWS_120", "No caching: answers carry live counts and each create is a write")],
    FUNCTION: [
        ("CKV_AWS_116", "No DLQ: API Gateway invokes synchronously; a DLQ only takes async events"),
        ("CKV_AWS_117", "No VPC: it reaches only DynamoDB, CloudWatch and X-Ray over AWS endpoints"),
        ("CKV_AWS_173", "Environment holds table names, an origin and a log level: no secrets"),
    ],
    "table": [("CKV_AWS_119", "Encrypted at rest with the AWS managed key; no personal data for a CMK")],
    "unprotected table": [("CKV_AWS_28", "Not prod: disposable data, deleted with the stack; prod has PITR")],
}
# API Gateway answers these itself, before the function runs: in the service's error shape too.
GATEWAY_ERRORS = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", '"No route matches this method and path."'),
    "UNAUTHORIZED": (401, "unauthorized", json.dumps(SIGN_IN_FIRST)),
    "ACCESS_DENIED": (403, "forbidden", "$context.error.messageString"),
    "THROTTLED": (429, "throttled", "$context.error.messageString"),
    "DEFAULT_4XX": (None, "request_refused", "$context.error.messageString"),
    "DEFAULT_5XX": (None, "gateway_error", "$context.error.messageString"),
}


logical_id = policies.table_logical_id


def table_resource(name: str, table_name: str, protected: bool) -> dict:
    table = TABLES[name]
    properties = {
        **create_table_input(table, table_name),
        "SSESpecification": {"SSEEnabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": protected},
        "DeletionProtectionEnabled": protected,
    }
    if table.stream:
        properties["StreamSpecification"] = {"StreamViewType": table.stream}
    if table.ttl_attribute:
        properties["TimeToLiveSpecification"] = {"AttributeName": table.ttl_attribute, "Enabled": True}
    policy = "Retain" if protected else "Delete"
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": policy,
        "UpdateReplacePolicy": policy,
        "Properties": properties,
    }


def checkov_skips(check_ids) -> dict:
    return {"checkov": {"skip": [{"id": id_, "comment": comment} for id_, comment in check_ids]}}


def tracing_policy() -> dict:
    """X-Ray's write actions have no resource-level permissions: "*" is the only resource."""
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "WriteTraces",
            "Roles": [{"Ref": ROLE}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "WriteTraces", "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": ["*"],
            }]},
        },
    }


def api_properties(stage: str, allowed_origin: str) -> dict:
    limits = operations(stage)
    return {
        "GatewayResponses": gateway_responses(allowed_origin),
        "TracingEnabled": bool(stage_setting(stage, "xray")),
        "AccessLogSetting": {
            "DestinationArn": {"Fn::GetAtt": [monitoring.ACCESS_LOG_GROUP, "Arn"]},
            "Format": monitoring.ACCESS_LOG_FORMAT,
        },
        "MethodSettings": [{
            "ResourcePath": "/*", "HttpMethod": "*",
            "ThrottlingRateLimit": limits["throttle_rate_limit"],
            "ThrottlingBurstLimit": limits["throttle_burst_limit"],
        }],
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
    resets = resets_enabled(stage_environment(stage))
    resources = {
        logical_id(name): table_resource(name, names[name], protected) for name in TABLES
    }
    table_skips = SKIPS["table"] if protected else SKIPS["table"] + SKIPS["unprotected table"]
    for name in TABLES:
        resources[logical_id(name)]["Metadata"] = checkov_skips(table_skips)
    resources["DataAccessPolicy"] = policies.data_policy("api", "DataAccess", resets, learner_pool.pool_arn())
    # a fit request and a change's recompute, handed to their queues
    resources["DataAccessPolicy"]["Properties"]["PolicyDocument"]["Statement"].append(
        fitting_template.send_statement([fitting_template.QUEUE, fitting_template.RECOMPUTE_QUEUE]))
    resources["LogsPolicy"] = logs_policy()
    resources["TracingPolicy"] = tracing_policy()
    resources.update(monitoring.log_groups(operations(stage)["log_retention_days"], protected))
    resources.update(monitoring.alarms(stage, {
        table: sorted(kinds) for table, kinds in policies.table_uses().items()
    }, {
        # The API queries the sessions' indexes, the purge them and the purges index.
        (logical_id(name), index.name): ["Read", "Write"]
        for name, table in TABLES.items() for index in table.indexes
    }))
    # The role's only permissions are the policies above (they name resources of this
    # stack, which the role's inline policy cannot without a cycle through the function).
    resources[ROLE] = {"Properties": {"Policies": []}}
    # API Gateway may invoke the function only once its policies are attached.
    resources[INVOKE_PERMISSION] = {"DependsOn": POLICIES}
    function_properties = {
        "Runtime": RUNTIME,
        "Architectures": [ARCHITECTURE],
        "Environment": {
            "Variables": {**{table.env_var: {"Ref": logical_id(name)} for name, table in TABLES.items()},
                          "LEARNER_CLIENT_IDS": {"Ref": learner_pool.CLIENT},
                          "USER_POOL_ID": learner_pool.pool_id()}
        },
    }
    resources[FUNCTION] = {
        # Created only once its role may write its logs and traces and use its tables.
        "DependsOn": POLICIES,
        "Metadata": checkov_skips(SKIPS[FUNCTION]),
        "Properties": {"FunctionName": monitoring.FUNCTION_NAME, **function_properties,
                       "Environment": {"Variables": {**function_properties["Environment"]["Variables"],
                                                     **fitting_template.queue_variables()}}},
    }
    resources.update(consumer_template.resources(
        function_properties, operations(stage)["log_retention_days"], protected, resets))
    resources.update(purge_template.resources(
        function_properties, operations(stage)["log_retention_days"], protected, resets))
    resources.update(fitting_template.resources(
        function_properties, operations(stage)["log_retention_days"], protected, resets))
    allowed_origin = stage_environment(stage).get("CORS_ALLOW_ORIGIN", "*")
    resources[API] = {"Metadata": checkov_skips(SKIPS[API]),
                      "Properties": {**api_properties(stage, allowed_origin), "Name": monitoring.API_NAME,
                                     "DefinitionBody": {
                                         "info": {"title": monitoring.API_NAME},
                                         "securityDefinitions": learner_pool.security_definitions()}}}
    topic, pool = monitoring.alarm_topic(), learner_pool.template(protected)
    resources.update(pool["Resources"])
    return {"Parameters": {**topic["Parameters"], **pool["Parameters"]},
            "Conditions": {**topic["Conditions"], **pool["Conditions"]},
            "Resources": resources, "Outputs": pool["Outputs"]}


def package(stage: str, out: Path) -> Path:
    try:
        mode = stage_environment(stage).get("AUTH_MODE", "cognito")
    except KeyError:
        raise SystemExit(f"make package: there is no stage {stage!r} in .chalice/config.json.") from None
    if mode != "cognito":
        raise SystemExit(f"make package: stage {stage} has AUTH_MODE={mode}; a deployed API signs its "
                         "learners in (AUTH_MODE=cognito).")
    out.mkdir(parents=True, exist_ok=True)
    merge_file = out.parent / f"merge-template-{stage}.json"
    merge_file.write_text(json.dumps(merge_template(stage), indent=2))
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    subprocess.run(
        [str(Path(sys.executable).parent / "chalice"), "package", "--stage", stage,
         "--merge-template", str(merge_file), str(out)],
        cwd=PROJECT_DIR, env=env, check=True,
    )
    template = out / "sam.json"
    template.write_text(json.dumps(fitting_template.queue_events(json.loads(template.read_text())), indent=2))
    fitter_zip(out / "fitter.zip")
    drop_stale_bytecode(out / "deployment.zip")
    add_bytecode(out / "deployment.zip")
    return out / "sam.json"


FITTING_DIR = PROJECT_DIR / "functions" / "fitting"


def fitter_zip(zip_path: Path) -> Path:
    """The Node fitter's package: functions/fitting's modules and its node_modules (npm ci first,
    `make package` runs on linux x64: the binding's native build is linux-x64-gnu only), without
    its tests; the same files make the same zip."""
    if not (FITTING_DIR / "node_modules" / "@open-spaced-repetition" / "binding").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FITTING_DIR,
                       check=True)
    files = sorted(path for path in FITTING_DIR.rglob("*") if path.is_file()
                   and path.relative_to(FITTING_DIR).parts[0] not in ("test", "README.md")
                   and path.name != ".installed")
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            entry = zipfile.ZipInfo(str(path.relative_to(FITTING_DIR)), date_time=ZIP_TIME)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return zip_path


def drop_stale_bytecode(zip_path: Path) -> int:
    """chalice package copies chalicelib/ as it is on disk, __pycache__ included where some
    process wrote one: those pycs are of whatever Python ran, and add_bytecode would add a second
    copy of each. Rewrite the zip without them; the number dropped."""
    with zipfile.ZipFile(zip_path) as archive:
        stale = [info for info in archive.infolist() if "__pycache__/" in info.filename]
        if not stale:
            return 0
        kept = [(info, archive.read(info)) for info in archive.infolist() if info not in stale]
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in kept:
            archive.writestr(info, data)
    return len(stale)


def add_bytecode(zip_path: Path) -> bool:
    """Add every module of the zip (the app and Chalice's runtime) compiled, when this Python is
    the runtime's: Lambda cannot write bytecode into the read-only /var/task, so each cold start
    compiled them all (~12 ms for the app alone).
    Unchecked-hash pycs are used without comparing source timestamps, which the zip resets."""
    if f"python{sys.version_info.major}.{sys.version_info.minor}" != RUNTIME:
        print(f"make package: not {RUNTIME}, so the zip has no bytecode (cold starts compile the app)",
              file=sys.stderr)
        return False
    with zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED) as archive, \
            tempfile.TemporaryDirectory() as scratch:
        for name in archive.namelist():
            if name.endswith(".py"):
                source = Path(scratch, name)
                source.parent.mkdir(parents=True, exist_ok=True)
                source.write_bytes(archive.read(name))
                compiled = py_compile.compile(str(source), doraise=True,
                                              invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                entry = zipfile.ZipInfo(str(Path(compiled).relative_to(scratch)), date_time=ZIP_TIME)
                archive.writestr(entry, Path(compiled).read_bytes(), zipfile.ZIP_DEFLATED)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    template = package(args.stage, (args.out or PROJECT_DIR / "out" / args.stage).resolve())
    print(f"Template: {template}\nZip: {template.parent / 'deployment.zip'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
