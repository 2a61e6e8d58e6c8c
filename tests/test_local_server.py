"""The real `chalice local` process on DynamoDB Local, over real HTTP."""
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from chalice import Chalice
from chalice.config import Config
from chalice.local import LocalDevServer

from devtools import dev_server
from devtools.dynamodb_local import free_port
from tests.helpers import CREATED_KEYS


def test_a_session_is_created_over_http(local_server):
    before = local_server.session_count()

    response = requests.post(
        local_server.url("/api/study-sessions"), json={"group_id": 1, "study_activity_id": 1}, timeout=10
    )

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert set(response.json()) == CREATED_KEYS
    assert response.headers["Location"] == f"/api/study-sessions/{response.json()['id']}"
    assert local_server.session_count() == before + 1


def test_a_bad_request_is_refused_over_http_and_writes_nothing(local_server):
    before = local_server.session_count()

    response = requests.post(
        local_server.url("/api/study-sessions"), data=b"{oops", timeout=10,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json() == {"error": "The body is not valid JSON.", "code": "validation_error"}
    assert local_server.session_count() == before


def test_an_unknown_group_is_404_over_http(local_server):
    response = requests.post(
        local_server.url("/api/study-sessions"), json={"group_id": 77, "study_activity_id": 1}, timeout=10
    )

    assert response.status_code == 404
    assert response.json() == {"error": "Group 77 does not exist.", "code": "not_found"}


def test_a_text_plain_body_is_415_over_http(local_server):
    response = requests.post(
        local_server.url("/api/study-sessions"), data="group_id=1", timeout=10,
        headers={"Content-Type": "text/plain"},
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_wrong_method_is_405_json_over_http(local_server):
    response = requests.delete(local_server.url("/api/study-sessions"), timeout=10)

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_the_cors_preflight_allows_json_posts_with_an_idempotency_key(local_server):
    response = requests.options(
        local_server.url("/api/study-sessions"), timeout=10,
        headers={"Origin": "http://127.0.0.1:5173", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,idempotency-key"},
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower().split(",")
    assert {"content-type", "idempotency-key"} <= set(allowed)


@pytest.mark.parametrize("method", ["GET", "POST", "OPTIONS"])
def test_an_unknown_path_is_404_json_with_cors_as_the_deployed_gateway_answers(local_server, method):
    response = requests.request(method, local_server.url("/api/nothing-here"), timeout=10, headers={
        "Origin": "http://127.0.0.1:5173", "Access-Control-Request-Method": "POST"})

    assert response.status_code == 404
    assert response.json() == {"error": "No route matches this method and path.", "code": "not_found"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Request-Id"]


def log_lines_naming(log_path, request_ids, seconds=30):
    """The server's log lines that name each id, once all of them have been written."""
    deadline = time.monotonic() + seconds
    while True:
        lines = log_path.read_text().splitlines()
        found = {id_: [line for line in lines if id_ in line] for id_ in request_ids}
        if all(len(found[id_]) >= 2 for id_ in request_ids) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_concurrent_requests_each_carry_their_own_request_id_on_header_and_log_lines(local_server):
    def send(n):
        if n % 2:
            return requests.post(local_server.url("/api/study-sessions"), data=b"{oops", timeout=30,
                                 headers={"Content-Type": "application/json"})
        return requests.post(local_server.url("/api/study-sessions"), timeout=30,
                             json={"group_id": 1, "study_activity_id": 1})

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(send, range(200)))

    ids = [response.headers["X-Request-Id"] for response in responses]
    assert len(set(ids)) == 200
    refused = [r.headers["X-Request-Id"] for r in responses if r.status_code == 400]
    assert len(refused) == 100 and all(r.status_code in (201, 400) for r in responses)
    found = log_lines_naming(local_server.log_path, refused)
    for request_id in refused:
        lines = found[request_id]
        [error_line] = [json.loads(line[line.index("{"):]) for line in lines if "error_reply" in line]
        assert (error_line["request_id"], error_line["status"]) == (request_id, 400)
        [access_line] = [line for line in lines if '"POST /api/study-sessions HTTP/1.1" 400' in line]
        assert access_line.endswith(f"request_id={request_id}")


class BusyApp:
    """A dev server in this process around a one-route app, for what the server itself does."""

    def __init__(self):
        app = Chalice(app_name="busy")

        @app.route("/ping")
        def ping():
            return {"pong": True}

        self.handler = dev_server.handler_class(app, {
            "DYNAMODB_MAX_CONNECTIONS": "1", "DYNAMODB_REQUEST_BUDGET": "0.2", "CORS_ALLOW_ORIGIN": "*"})
        self.server = LocalDevServer(app, Config.create(), "127.0.0.1", free_port(),
                                     handler_cls=self.handler, server_cls=dev_server.TunedHTTPServer)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path):
        return f"http://127.0.0.1:{self.server.port}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.server.shutdown()
        self.server.server.server_close()
        self.thread.join(timeout=10)


def test_a_request_that_cannot_get_a_slot_in_time_is_503_with_retry_after():
    with BusyApp() as busy:
        assert requests.get(busy.url("/ping"), timeout=10).json() == {"pong": True}
        busy.handler.slots.acquire()  # the one slot is taken by a request that does not end
        try:
            response = requests.get(busy.url("/ping"), timeout=10)
        finally:
            busy.handler.slots.release()
        again = requests.get(busy.url("/ping"), timeout=10)

    assert response.status_code == 503
    assert response.json() == {"error": "The local server is busy; retry shortly.", "code": "unavailable"}
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert again.status_code == 200
