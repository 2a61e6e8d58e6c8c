import json
import os
import socket
import threading
import uuid

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from devtools import dynamodb_local
from devtools.provision import delete_tables, provision
from devtools.stage import stage_environment

# As `chalice local` and Lambda do, the stage's variables are set before app is imported.
os.environ.update(stage_environment("local"))
os.environ.update(dynamodb_local.LOCAL_CREDENTIALS)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)

from chalice.test import Client  # noqa: E402

import app as app_module  # noqa: E402
from chalicelib.config import build_service  # noqa: E402
from chalicelib.schema import TABLES  # noqa: E402

# botocore resends nothing in the function's own client (chalicelib.deadline does): the same here.
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


class Api:
    """The app behind chalice's test client, with the tables it writes to."""

    def __init__(self, client, dynamodb, names):
        self.http = client.http
        self.lambda_ = client.lambda_
        self.dynamodb = dynamodb
        self.names = names

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
        from chalicelib.store import to_item

        self.dynamodb.put_item(TableName=self.names[logical], Item=to_item(item))


    def service(self):
        return app_module.service()

    def count_history(self):
        """What the stream consumer would have counted by now (the test client has no streams):
        the aggregates rebuilt from the stored items."""
        from chalicelib.audit import rebuild

        rebuild(self.dynamodb, self.names)

    def restart(self):
        """A new service, as in a fresh Lambda container: its reference cache is empty."""
        environ = {table.env_var: self.names[logical] for logical, table in TABLES.items()}
        app_module._service = build_service(environ, client=self.dynamodb)
        app_module._dashboard = None
        app_module._catalog = None


@pytest.fixture
def api(dynamodb, table_names, monkeypatch):
    monkeypatch.setattr(app_module, "_service", None)
    monkeypatch.setattr(app_module, "_dashboard", None)
    monkeypatch.setattr(app_module, "_catalog", None)
    with Client(app_module.app, stage_name="local") as client:
        api = Api(client, dynamodb, table_names)
        api.restart()
        yield api


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
