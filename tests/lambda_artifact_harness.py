"""Run inside a venv that has only an older boto3, as a Lambda runtime bundles it:

    python lambda_artifact_harness.py <unzipped deployment.zip> <number of creates> [review]

Sends that many create events through the packaged handler, as Lambda would, and prints a line
"answer <JSON>" per answer (status, code, seconds), among the function's own log lines; with
"review", then a review of the last session (its scheduler vendored in the zip), printed as
"review <JSON>" (status, memory).
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


CLAIMS = {"sub": "artifact-learner", "token_use": "id"}  # what API Gateway's Cognito authorizer passes on


def event(resource: str, path: str, body: dict, path_parameters=None) -> dict:
    return {
        "resource": resource, "path": path, "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"}, "multiValueHeaders": None,
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters, "stageVariables": None, "isBase64Encoded": False,
        "requestContext": {"resourcePath": resource, "httpMethod": "POST", "path": f"/dev{path}",
                           "requestId": str(uuid.uuid4()), "stage": "dev", "authorizer": {"claims": CLAIMS}},
        "body": json.dumps(body),
    }


created = None
for _ in range(int(sys.argv[2])):
    create = event("/api/study-sessions", "/api/study-sessions", {"group_id": 1, "study_activity_id": 1})
    started = time.monotonic()
    answer = app.app(create, Context())
    body = json.loads(answer["body"])
    created = body.get("id", created)
    print("answer", json.dumps({"status": answer["statusCode"], "code": body.get("code"),
                                "seconds": time.monotonic() - started, "botocore": botocore.__version__}),
          flush=True)

if sys.argv[3:] == ["review"]:
    resource = "/api/study-sessions/{session_id}/review"
    answer = app.app(event(resource, f"/api/study-sessions/{created}/review", {"word_id": 1, "correct": True},
                           {"session_id": created}), Context())
    body = json.loads(answer["body"])
    print("review", json.dumps({"status": answer["statusCode"], "memory": body.get("memory")}), flush=True)
