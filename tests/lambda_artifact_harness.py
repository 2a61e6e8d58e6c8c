"""Run inside a venv that has only an older boto3, as a Lambda runtime bundles it:

    python lambda_artifact_harness.py <unzipped deployment.zip> <number of creates>

Sends that many create events through the packaged handler, as Lambda would, and prints a line
"answer <JSON>" per answer (status, code, seconds), among the function's own log lines.
Imports nothing from the project but the zip."""
import json
import sys
import time
import uuid

sys.path.insert(0, sys.argv[1])

import botocore  # noqa: E402

import app  # noqa: E402


class Context:
    aws_request_id = "artifact"
    function_name = "study-sessions-dev-api"
    memory_limit_in_mb = 512

    @staticmethod
    def get_remaining_time_in_millis():
        return 20_000


for _ in range(int(sys.argv[2])):
    event = {
        "resource": "/api/study-sessions", "path": "/api/study-sessions", "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"}, "multiValueHeaders": None,
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "isBase64Encoded": False,
        "requestContext": {"resourcePath": "/api/study-sessions", "httpMethod": "POST",
                           "path": "/dev/api/study-sessions", "requestId": str(uuid.uuid4()),
                           "stage": "dev",
                           # what API Gateway's Cognito authorizer passes on
                           "authorizer": {"claims": {"sub": "artifact-learner", "token_use": "id"}}},
        "body": json.dumps({"group_id": 1, "study_activity_id": 1}),
    }
    started = time.monotonic()
    answer = app.app(event, Context())
    body = json.loads(answer["body"])
    print("answer", json.dumps({"status": answer["statusCode"], "code": body.get("code"),
                                "seconds": time.monotonic() - started, "botocore": botocore.__version__}),
          flush=True)
