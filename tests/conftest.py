import json
import os
import socket
import threading
import uuid

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from tests import roles

roles.install()  # before any botocore session is made: every client checks the active roles

from devtools import dynamodb_local  # noqa: E402
from devtools.provision import delete_tables, provision  # noqa: E402
from devtools.stage import stage_environment  # noqa: E402

# As `chalice local` and Lambda do, the stage's variables are set before app is imported.
os.environ.update(stage_environment("local"))
os.environ.update(dynamodb_local.LOCAL_CREDENTIALS)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)

from chalice.test import Client  # noqa: E402

import app as app_module  # noqa: E402
from chalicelib.config import build_services  # noqa: E402
from chalicelib.storage.schema import TABLES  # noqa: E402

# botocore resends nothing in the function's own client (chalicelib.storage.deadline does): the same here.
SERVICE_CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="session")
def dynamodb_local_server(tmp_path_factory):
    log = tmp_path_factory.mktemp("dynamodb-local") / "dynamodb-local.log"
    with dynamodb_local.DynamoDBLocal(dynamodb_local.free_port(), log_path=log) as server:
        yield server


@pytest.fixture(params=["moto", "dynamodb_local"])
def dynamodb(request):
    """A DynamoDB client: moto in process, or the real DynamoDB Local."""
    if request.param == "moto":
        with mock_aws():
            yield boto3.client("dynamodb", region_name="us-east-1", config=SERVICE_CLIENT_CONFIG)
    else:
        yield dynamodb_local.client(request.getfixturevalue("dynamodb_local_server").endpoint)


@pytest.fixture
def table_names(dynamodb):
    """Fresh, seeded tables with names of this test's own."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    names = {logical: f"{prefix}-{logical}" for logical in TABLES}
    provision(dynamodb, names)
    yield names
    delete_tables(dynamodb, names)


class SettledHttp:
    """chalice's test client, each write followed by what the stream consumer would then write on
    the sessions (the test client has no streams): every session's figures recounted from its
    reviews. tests/test_aggregates.py runs the consumer itself on the streams' records."""

    def __init__(self, http, dynamodb, names):
        credentials = dynamodb._request_signer._credentials
        # its own client: the calls a test watches on the app's are the app's only
        self._dynamodb = boto3.client(
            "dynamodb", endpoint_url=dynamodb.meta.endpoint_url, region_name=dynamodb.meta.region_name,
            aws_access_key_id=credentials.access_key, aws_secret_access_key=credentials.secret_key)
        self._http, self._names = http, names

    def __getattr__(self, method):
        send = getattr(self._http, method)
        if method not in ("post", "put", "delete", "patch"):
            return send

        def settled(*args, **kwargs):
            from chalicelib.streams.audit import rebuild_sessions

            response = send(*args, **kwargs)
            rebuild_sessions(self._dynamodb, self._names)
            return response
        return settled


class Api:
    """The app behind chalice's test client, with the tables it writes to."""

    def __init__(self, client, dynamodb, names):
        self.http = SettledHttp(client.http, dynamodb, names)
        self.lambda_ = client.lambda_
        self.dynamodb = dynamodb
        self.names = names
        self.roles = None

    def post(self, body, headers=None, path="/api/study-sessions"):
        raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self.http.post(path, headers=headers, body=raw)

    def get(self, path, headers=None):
        return self.http.get(path, headers=headers or {})

    def session_items(self):
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=self.names["study_sessions"], ConsistentRead=True
        )
        return [item for page in pages for item in page["Items"]]

    def session_count(self):
        return len(self.session_items())

    def put_reference(self, logical, item):
        from chalicelib.storage.dynamo import to_item

        self.dynamodb.put_item(TableName=self.names[logical], Item=to_item(item))


    def services(self):
        return app_module.services()

    def count_history(self):
        """What the stream consumer would have counted by now (the test client has no streams):
        the aggregates rebuilt from the stored items."""
        from chalicelib.streams.audit import rebuild, rebuild_sessions

        rebuild(self.dynamodb, self.names)
        rebuild_sessions(self.dynamodb, self.names)

    def restart(self, resets: bool = False, clock=None, **environment):
        """A new service, as in a fresh Lambda container: its reference cache is empty. Resets
        are off unless asked for, as on prod, whose calls and units the tests pin; with them
        each request first reads the learner's epoch (tests/test_reset.py)."""
        environ = {**stage_environment("local"), "RESET_HISTORY": "enabled" if resets else "disabled",
                   **{table.env_var: self.names[logical] for logical, table in TABLES.items()}, **environment}
        given = {"clock": clock} if clock else {}
        self.roles.bind(self.roles.binding._replace(pool_id=environ.get("USER_POOL_ID", "")))
        app_module._services = build_services(environ, client=self.dynamodb, **given)
        app_module._dashboard = None
        app_module._catalog = None
        app_module._learner_data = None
        app_module._scheduler = None


@pytest.fixture
def api(dynamodb, table_names, monkeypatch):
    monkeypatch.setattr(app_module, "_services", None)
    monkeypatch.setattr(app_module, "_dashboard", None)
    monkeypatch.setattr(app_module, "_catalog", None)
    monkeypatch.setattr(app_module, "_learner_data", None)
    monkeypatch.setattr(app_module, "_scheduler", None)
    with Client(app_module.app, stage_name="local") as client:
        api = Api(client, dynamodb, table_names)
        api.roles = roles.Enforcer(packaged_roles_template(),
                                   roles.Binding(dynamodb.meta.region_name, table_names))
        roles.activate(api.roles)
        try:
            api.restart()
            yield api
        finally:
            roles.deactivate(api.roles)
        assert not api.roles.denied, "calls the packaged roles refuse: " + "; ".join(
            call.describe() for call in api.roles.denied)


_roles_template = None
_packaged = {}


def packaged(stage):
    """The output folder and template of `make package` for a stage, with no credentials and a
    dummy region: made once per test run."""
    if stage not in _packaged:
        import subprocess

        from devtools.stage import PROJECT_DIR

        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["AWS_DEFAULT_REGION"] = "eu-west-1"
        subprocess.run(["make", "--no-print-directory", "package", f"STAGE={stage}"], cwd=PROJECT_DIR,
                       env=env, check=True, capture_output=True)
        out = PROJECT_DIR / "out" / stage
        _packaged[stage] = out, json.loads((out / "sam.json").read_text())
    return _packaged[stage]


def packaged_roles_template():
    """The roles `make package` writes (the same on every stage: chalicelib.storage.access is one)."""
    global _roles_template
    if _roles_template is None:
        from devtools.package import merge_template

        _roles_template = merge_template("dev")
    return _roles_template


class LocalServer:
    """`chalice local --stage local` over real HTTP, backed by DynamoDB Local."""

    def __init__(self, base_url, dynamodb, names, log_path):
        self.base_url = base_url
        self.dynamodb = dynamodb
        self.names = names
        self.log_path = log_path

    def url(self, path):
        return f"{self.base_url}{path}"

    def session_count(self):
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=self.names["study_sessions"], Select="COUNT", ConsistentRead=True
        )
        return sum(page["Count"] for page in pages)


@pytest.fixture(scope="session")
def local_server(dynamodb_local_server, tmp_path_factory):
    from devtools.local_run import start_chalice_local, start_stream_poller
    from devtools.processes import stop_processes
    from devtools.stage import table_names

    client = dynamodb_local.client(dynamodb_local_server.endpoint)
    names = table_names("local")
    provision(client, names)
    port = dynamodb_local.free_port()
    log = tmp_path_factory.mktemp("chalice-local") / "chalice-local.log"
    process = start_chalice_local(port, dynamodb_local_server.endpoint, log_path=log)
    poller = start_stream_poller(dynamodb_local_server.endpoint, log_path=log.parent / "stream-poller.log")
    yield LocalServer(f"http://127.0.0.1:{port}", client, names, log)
    stop_processes(process, poller)


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with a fresh profile."""
    from tests.browser import Browser

    browser = Browser(tmp_path / "profile")
    yield browser
    browser.close()


@pytest.fixture
def silent_dynamodb():
    """A socket that accepts connections and never answers: its URL, and the connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", held
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


class SignedInServer:
    """`AUTH=cognito make run`: the API verifying the local Cognito's tokens."""

    def __init__(self, base_url, settings, dynamodb, names):
        self.base_url, self.settings, self.dynamodb, self.names = base_url, settings, dynamodb, names

    def token(self, name):
        """A fresh ID token of a learner of the local pool, signed in as a frontend would."""
        from devtools.local_auth import cognito_client, sign_in

        password = {u["username"]: u["password"] for u in self.settings["learners"]}[name]
        return sign_in(cognito_client(self.settings["endpoint"]), self.settings["client_id"], name, password)


@pytest.fixture(scope="session")
def signed_in_server(tmp_path_factory):
    """Its own DynamoDB Local, the local Cognito with the demo learners and "fuzz" (schemathesis
    signs in as that one, so that its resets touch nobody else's history), the API and the poller."""
    from devtools.local_auth import cognito_client
    from devtools.local_run import start_chalice_local, start_local_cognito, start_stream_poller
    from devtools.processes import stop_processes
    from devtools.stage import table_names

    folder = tmp_path_factory.mktemp("signed-in")
    settings_file = folder / "local-cognito.json"
    with dynamodb_local.DynamoDBLocal(dynamodb_local.free_port()) as database:
        client = dynamodb_local.client(database.endpoint)
        names = table_names("local")
        provision(client, names)
        cognito = start_local_cognito(dynamodb_local.free_port(), settings_file, folder / "cognito.json",
                                      folder / "cognito.log")
        api = poller = None
        try:
            settings = json.loads(settings_file.read_text())
            fuzz = {"username": "fuzz", "password": "Fuzz-local-2026!"}
            pool = cognito_client(settings["endpoint"])
            pool.admin_create_user(UserPoolId=settings["user_pool_id"], Username="fuzz",
                                   MessageAction="SUPPRESS")
            pool.admin_set_user_password(UserPoolId=settings["user_pool_id"], Username="fuzz",
                                         Password=fuzz["password"], Permanent=True)
            settings["learners"].append(fuzz)
            port = dynamodb_local.free_port()
            api = start_chalice_local(port, database.endpoint, log_path=folder / "api.log",
                                      cognito_file=settings_file)
            poller = start_stream_poller(database.endpoint, log_path=folder / "poller.log",
                                         cognito_file=settings_file)
            yield SignedInServer(f"http://127.0.0.1:{port}", settings, client, names)
        finally:
            stop_processes(api, poller, cognito)
