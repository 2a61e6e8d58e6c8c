"""One cold start, run in a fresh process by `make bench`:

    python -m devtools.cold_start app DIR    # from DIR, the unpacked Lambda zip: import app, serve a create
    python -m devtools.cold_start baseline   # a bare Chalice app, a boto3 client, one PutItem

The stage's table names and AWS_ENDPOINT_URL_DYNAMODB come from the environment."""
import json
import sys
import uuid
from typing import Optional


def proxy_event(body: dict, headers: Optional[dict] = None, path: str = "/api/study-sessions") -> dict:
    """An API Gateway REST proxy event of a POST, as Lambda receives it."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    return {
        "resource": path, "path": path, "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": "POST", "path": path,
                           "requestId": str(uuid.uuid4()), "stage": "bench"},
        "body": json.dumps(body), "isBase64Encoded": False,
    }


class Context:
    aws_request_id = "bench"
    function_name = "bench"
    memory_limit_in_mb = 512

    @staticmethod
    def get_remaining_time_in_millis():
        return 20000


def serve_first_create() -> int:
    import app

    return app.app(proxy_event({"group_id": 1, "study_activity_id": 1}), Context())["statusCode"]


def baseline() -> int:
    import os

    import boto3
    from chalice import Chalice

    bare = Chalice(app_name="baseline")
    client = boto3.client("dynamodb")

    @bare.route("/api/study-sessions", methods=["POST"])
    def create():
        client.put_item(
            TableName=os.environ["STUDY_SESSIONS_TABLE"],
            Item={"id": {"S": str(uuid.uuid4())}, "group_id": {"N": "1"},
                  "study_activity_id": {"N": "1"}, "created_at": {"S": "2026-11-26T21:54:23Z"}},
        )
        return {"ok": True}

    return bare(proxy_event({"group_id": 1, "study_activity_id": 1}), Context())["statusCode"]


if __name__ == "__main__":
    if sys.argv[1] == "app":
        sys.path.insert(0, sys.argv[2])  # what Lambda runs: the zip's app, chalicelib and chalice
    status = serve_first_create() if sys.argv[1] == "app" else baseline()
    sys.exit(0 if status in (200, 201) else 1)
