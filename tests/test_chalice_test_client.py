"""The app tested the way Chalice documents it: `Client(app, stage_name=...)` puts the stage's
environment in place only while each request runs, and nothing is set beforehand."""
import boto3
from chalice.test import Client
from moto import mock_aws

import app as app_module
from chalicelib.schema import TABLES
from devtools.local_auth import create_pool, sign_in
from devtools.provision import provision
from devtools.stage import table_names


def test_the_documented_test_client_pattern_works_with_no_variables_set_beforehand(monkeypatch):
    for table in TABLES.values():
        monkeypatch.delenv(table.env_var, raising=False)
    monkeypatch.setattr(app_module, "_service", None)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        provision(dynamodb, table_names("dev"))
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool = create_pool(cognito, [("ana", "Ana-test-2026!")])
        token = sign_in(cognito, pool["client_id"], "ana", "Ana-test-2026!")

        with Client(app_module.app, stage_name="dev") as client:  # dev signs learners in
            response = client.http.post(
                "/api/study-sessions", headers={"Content-Type": "application/json", "Authorization": token},
                body='{"group_id": 1, "study_activity_id": 1}',
            )

        assert response.status_code == 201, response.body
        assert response.json_body["group_name"] == "Core Verbs"
        stored = dynamodb.scan(TableName=table_names("dev")["study_sessions"])["Items"]
        assert [item["id"]["S"] for item in stored] == [response.json_body["id"]]
