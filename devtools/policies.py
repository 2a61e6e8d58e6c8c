"""Each function's role in the packaged template, written from chalicelib.storage.access: one statement
per table it uses (its actions on the table's ARN), one per table whose indexes it queries
(Query on each index's own ARN), and its Cognito actions on the stage's pool."""
from typing import Dict, List

from chalicelib.storage.access import FUNCTIONS

# chalice package's logical ids: each function's role, and the policy resource written for it
ROLES = {"api": "ApiHandlerRole", "aggregates": "AggregatesRole", "purge": "PurgeRole",
         "fitting": "FittingRole", "recompute": "RecomputeRole", "fit_due": "FitDueRole"}


def table_logical_id(name: str) -> str:
    return "".join(part.title() for part in name.split("_")) + "Table"


def dynamodb_statements(function: str, resets: bool) -> List[dict]:
    statements = []
    for table, grant in FUNCTIONS[function].tables.items():
        logical = table_logical_id(table)
        actions = grant.actions + (grant.with_resets if resets else ())
        if actions:
            statements.append({"Sid": f"Use{logical}", "Effect": "Allow",
                               "Action": [f"dynamodb:{action}" for action in actions],
                               "Resource": [{"Fn::GetAtt": [logical, "Arn"]}]})
        if grant.indexes:
            indexes = [{"Fn::Sub": f"${{{logical}.Arn}}/index/{index}"} for index in grant.indexes]
            statements.append({"Sid": f"Query{logical}Indexes", "Effect": "Allow",
                               "Action": ["dynamodb:Query"], "Resource": indexes})
    return statements


def stream_statements(function: str) -> List[dict]:
    """What the function's event source mapping reads with its role: the streams of its tables."""
    tables = FUNCTIONS[function].streams
    if not tables:
        return []
    return [
        {"Sid": "ReadStreams", "Effect": "Allow",
         "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
         "Resource": [{"Fn::GetAtt": [table_logical_id(table), "StreamArn"]} for table in tables]},
        # ListStreams has no resource-level permissions.
        {"Sid": "ListStreams", "Effect": "Allow", "Action": ["dynamodb:ListStreams"], "Resource": ["*"]},
    ]


def cognito_statements(function: str, pool_arn: dict) -> List[dict]:
    actions = FUNCTIONS[function].cognito
    if not actions:
        return []
    return [{"Sid": "LearnerPool", "Effect": "Allow", "Action": [f"cognito-idp:{a}" for a in actions],
             "Resource": [pool_arn]}]


def data_policy(function: str, policy_name: str, resets: bool, pool_arn: dict) -> dict:
    """The IAM policy resource with all the function's data access (tables, streams, pool), on a
    stage that lets learners reset their history or not."""
    statements = (dynamodb_statements(function, resets) + stream_statements(function)
                  + cognito_statements(function, pool_arn))
    return {"Type": "AWS::IAM::Policy", "Properties": {
        "PolicyName": policy_name, "Roles": [{"Ref": ROLES[function]}],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}}


def table_uses() -> Dict[str, Dict[str, set]]:
    """Table logical id -> "Read"/"Write" -> the functions' actions of that kind, over all functions
    (what the throttle alarms watch)."""
    reads = {"BatchGetItem", "Scan", "GetItem", "Query"}
    uses: Dict[str, Dict[str, set]] = {}
    for access in FUNCTIONS.values():
        for table, grant in access.tables.items():
            kinds = uses.setdefault(table_logical_id(table), {})
            for action in grant.actions + grant.with_resets:
                kinds.setdefault("Read" if action in reads else "Write", set()).add(action)
    return uses


def readme_table() -> str:
    """README's table of the roles, as written from chalicelib.storage.access."""
    rows = ["| function | table or resource | actions |", "|---|---|---|"]
    for function, access in FUNCTIONS.items():
        for table, grant in access.tables.items():
            actions = ", ".join(f"`{action}`" for action in grant.actions)
            if grant.with_resets:
                actions += " (and " + ", ".join(f"`{a}`" for a in grant.with_resets) + " where resets are on)"
            if grant.indexes:
                actions += ("; " if actions else "") + "`Query` on " \
                    + ", ".join(f"`index/{index}`" for index in grant.indexes)
            rows.append(f"| {ROLES[function]} | {table} | {actions} |")
        for table in access.streams:
            rows.append(f"| {ROLES[function]} | {table} stream | `DescribeStream`, `GetRecords`, "
                        "`GetShardIterator` (and `ListStreams` on `*`) |")
        if access.cognito:
            rows.append(f"| {ROLES[function]} | the stage's user pool | "
                        + ", ".join(f"`cognito-idp:{a}`" for a in access.cognito) + " |")
    return "\n".join(rows)
