"""The packaged roles enforced in the tests, the way AWS authorises a call: each DynamoDB and
Cognito call made while a function runs (chalicelib.storage.access.running) is held against the
statements of that function's role in the template of the stage under test, with the
template's resources resolved to this test's tables and pool. A call the role does not grant is
answered AccessDeniedException, as AWS would, before it reaches moto or DynamoDB Local, and is
recorded, so the test fails naming the function, the action, the table and the index.

A TransactWriteItems is authorised item by item (PutItem, UpdateItem, DeleteItem,
ConditionCheckItem on each item's table), a BatchGetItem or BatchWriteItem on each table it
names, a Query or Scan of an index on the index's ARN."""
import fnmatch
import json
from typing import Dict, Iterable, List, NamedTuple, Optional, Set, Tuple

from botocore import handlers
from botocore.awsrequest import AWSResponse

from chalicelib.storage.access import running
from chalicelib.storage.schema import TABLES
from devtools.policies import ROLES, table_logical_id

ACCOUNT = "123456789012"
TRANSACTION_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "ConditionCheck": "ConditionCheckItem",
                       "Delete": "DeleteItem"}


class Call(NamedTuple):
    function: str
    action: str  # "dynamodb:PutItem"
    resource: str  # the ARN the action is authorised on
    table: Optional[str]  # logical table name, when a table's
    index: Optional[str]

    def describe(self) -> str:
        where = f"table {self.table}" + (f", index {self.index}" if self.index else "") if self.table \
            else self.resource
        return f"function {self.function}: {self.action} on {where}"


def template_statements(template: dict, role: str) -> List[dict]:
    statements = []
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]:
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
        if resource.get("Type") == "AWS::IAM::Role" and resource is template["Resources"].get(role):
            for policy in resource["Properties"].get("Policies", []):
                statements += policy["PolicyDocument"]["Statement"]
    return statements


class Binding(NamedTuple):
    """What the template's resources are in this test: its tables and user pool."""
    region: str
    table_names: Dict[str, str]  # logical name -> table name
    pool_id: str = ""

    def table_arn(self, logical: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{self.table_names[logical]}"

    def resolve(self, value) -> str:
        """A statement's resource: "*", or a template expression naming a resource of the stack."""
        if isinstance(value, str):
            return value
        logical_ids = {table_logical_id(name): name for name in TABLES}
        if "Fn::GetAtt" in value:
            target, attribute = value["Fn::GetAtt"]
            if target in logical_ids:
                arn = self.table_arn(logical_ids[target])
                return {"Arn": arn, "StreamArn": f"{arn}/stream/*"}[attribute]
            if target == "LearnerPool" and attribute == "Arn":
                return f"arn:aws:cognito-idp:{self.region}:{ACCOUNT}:userpool/{self.pool_id}"
            return f"arn:aws:unbound:{target}"  # a log group, a queue: not called by the code under test
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]
            for logical, name in logical_ids.items():
                text = text.replace(f"${{{logical}.Arn}}", self.table_arn(name))
            return text
        if "Fn::If" in value:  # the stack's own pool, or one given as a parameter: the same ARN here
            return self.resolve(value["Fn::If"][1])
        raise AssertionError(f"a resource this check cannot resolve: {json.dumps(value)}")


class Role:
    def __init__(self, statements: Iterable[dict], binding: Binding):
        self.grants: List[Tuple[List[str], List[str]]] = []
        for statement in statements:
            assert statement["Effect"] == "Allow" and "NotAction" not in statement
            resources = statement["Resource"]
            resources = [resources] if isinstance(resources, (str, dict)) else resources
            self.grants.append((statement["Action"], [binding.resolve(r) for r in resources]))

    def allows(self, action: str, resource: str) -> bool:
        return any(any(fnmatch.fnmatchcase(action, a) for a in actions)
                   and any(fnmatch.fnmatchcase(resource, r) for r in resources)
                   for actions, resources in self.grants)

    def granting(self, action: str, resource: str) -> Set[Tuple[str, str]]:
        """The (action, resource) pairs of the statements that grant this call."""
        return {(a, r) for actions, resources in self.grants for a in actions for r in resources
                if fnmatch.fnmatchcase(action, a) and fnmatch.fnmatchcase(resource, r)}


Needed = Tuple[str, str, Optional[str], Optional[str]]


def dynamodb_calls(operation: str, params: dict, binding: Binding) -> List[Needed]:
    """(action, resource, logical table, index) for each authorisation the call needs."""
    logical_of = {name: logical for logical, name in binding.table_names.items()}

    def on(action: str, table_name: str, index: Optional[str] = None):
        logical = logical_of.get(table_name)
        arn = (binding.table_arn(logical) if logical
               else f"arn:aws:dynamodb:{binding.region}:{ACCOUNT}:table/{table_name}")
        return (f"dynamodb:{action}", f"{arn}/index/{index}" if index else arn, logical or table_name, index)

    if "TransactItems" in params:
        action_of = TRANSACTION_ACTIONS if operation == "TransactWriteItems" else {"Get": "GetItem"}
        return [on(action_of[kind], item["TableName"])
                for entry in params["TransactItems"] for kind, item in entry.items()]
    if "RequestItems" in params:
        return [on(operation, name) for name in params["RequestItems"]]
    if "TableName" in params:
        return [on(operation, params["TableName"], params.get("IndexName"))]
    return [(f"dynamodb:{operation}", "*", None, None)]


class Enforcer:
    """Holds calls against the roles of one stage's template; what it refused and what it granted."""

    def __init__(self, template: dict, binding: Binding):
        self.template = template
        self.bind(binding)
        self.denied: List[Call] = []
        self.used: Set[Tuple[str, str, str]] = set()  # (function, granted action, granted resource)

    def bind(self, binding: Binding) -> None:
        """Resolve the roles' resources to these tables and this pool."""
        self.binding = binding
        self.roles = {function: Role(template_statements(self.template, role), binding)
                      for function, role in ROLES.items()}

    def check(self, service: str, operation: str, params: dict) -> Optional[Call]:
        function = running()
        if function is None:
            return None
        if service == "dynamodb":
            needed = dynamodb_calls(operation, params, self.binding)
        elif service == "cognito-idp":
            arn = f"arn:aws:cognito-idp:{self.binding.region}:{ACCOUNT}:userpool/{params.get('UserPoolId')}"
            needed = [(f"cognito-idp:{operation}", arn, None, None)]
        else:
            needed = [(f"{service}:{operation}", "*", None, None)]
        for action, resource, table, index in needed:
            role = self.roles[function]
            if not role.allows(action, resource):
                call = Call(function, action, resource, table, index)
                self.denied.append(call)
                return call
            self.used |= {(function, a, r) for a, r in role.granting(action, resource)}
        return None


_active: List[Enforcer] = []


class _Denied(AWSResponse):
    def __init__(self):
        super().__init__("https://denied.invalid", 400, {}, None)

    @property
    def content(self):
        return b""


def _remember_params(params, model, context, **_):
    context["roles_check"] = (model.service_model.service_name, model.name, params)


def _authorise(model, context, **_):
    if not _active or "roles_check" not in context:
        return None
    service, operation, params = context["roles_check"]
    call = _active[-1].check(service, operation, params)
    if call is None:
        return None
    return _Denied(), {
        "Error": {"Code": "AccessDeniedException",
                  "Message": f"User: {ROLES[call.function]} is not authorized to perform: {call.action} "
                             f"on resource: {call.resource} ({call.describe()})"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


def install() -> None:
    """Every botocore session made from now on checks the active enforcer (before conftest makes any)."""
    handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _remember_params))
    handlers.BUILTIN_HANDLERS.append(("before-call", _authorise))


def activate(enforcer: Enforcer) -> None:
    _active.append(enforcer)


def deactivate(enforcer: Enforcer) -> None:
    _active.remove(enforcer)
