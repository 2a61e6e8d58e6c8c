"""`chalice local`, made to answer as the deployed API does and to hold under bursts:

    python -m devtools.dev_server [--project-dir DIR] --stage local --host 127.0.0.1 --port 8000

It builds the app exactly as `chalice local --no-autoreload` does (the stage's environment,
the same route validation, Chalice's own gateway and handler) and changes what Chalice does not
expose:
- a listen queue of 128 instead of 5, where fresh connections from 16 threads were reset, and
  TCP_NODELAY on accepted sockets, where a kept-alive request waited ~50 ms for the client's
  delayed ACK (headers and body go out in two writes);
- at most DYNAMODB_MAX_CONNECTIONS requests in the app at once, the size of its DynamoDB
  connection pool: a burst waits its turn (a Lambda function has a concurrency limit too),
  and a request that waited longer than the stage's DynamoDB budget gets 503 with Retry-After;
- a request id of its own for every request (API Gateway's `requestContext.requestId`), on the
  X-Request-Id header and on the access log line;
- an unknown path is 404 in the service's JSON shape with the CORS header, as the deployed
  gateway answers it (chalice local says 403 without CORS, which a browser shows as a CORS error);
- interactive docs of openapi.yaml at /docs (devtools.api_docs), and the web client's page at
  /app (devtools.web_app);
- with AUTH_MODE=cognito in its environment (`AUTH=cognito make run`), the token check of API
  Gateway's Cognito authorizer on every route that has one (devtools.local_auth), where chalice
  local would only decode the token: 401 in the service's shape, with CORS, when it fails;
  without sign-in the Authorization header is dropped, as it means nothing there.
"""
import argparse
import json
import logging
import os
import signal
import sys
import threading
import uuid
import warnings
from pathlib import Path
from typing import Optional

from chalice import local
from chalice.cli import factory
from chalice.deploy.validate import validate_routes

from chalicelib.config import dynamodb_limits
from chalicelib.core.errors import RETRY_AFTER_SECONDS
from devtools.api_docs import ApiDocs, is_docs_path
from devtools.local_auth import InvalidToken, TokenVerifier, signed_in_environment
from devtools.package import GATEWAY_ERRORS
from devtools.web_app import WebApp, is_app_path

LISTEN_QUEUE = 128


class TunedHTTPServer(local.ThreadedHTTPServer):
    request_queue_size = LISTEN_QUEUE


class RequestIdEventConverter(local.LambdaEventConverter):
    def create_lambda_event(self, *args, **kwargs):
        event = super().create_lambda_event(*args, **kwargs)
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        return event


class GatewayLikeRequestHandler(local.ChaliceRequestHandler):
    """Set up per server by ``handler_class``: the app's routes, CORS origin, slots and docs."""
    disable_nagle_algorithm = True  # socketserver sets TCP_NODELAY on each accepted socket
    routes: local.RouteMatcher
    binary_types: list
    allow_origin: str
    slots: threading.BoundedSemaphore
    slot_wait_seconds: float
    docs: ApiDocs
    web_app: WebApp
    app_routes: dict  # path -> method -> Chalice's route entry
    verifier: Optional[TokenVerifier]  # None: no sign-in on this stage

    def __init__(self, *args, **kwargs):
        self.request_id = "-"
        super().__init__(*args, **kwargs)

    def setup(self):
        super().setup()
        self.local_gateway.event_converter = RequestIdEventConverter(self.routes, self.binary_types)

    def _generic_handle(self) -> None:
        if is_docs_path(self.path) and self.command == "GET":
            return self._send_docs()
        if is_app_path(self.path) and self.command == "GET":
            return self._send_page(self.web_app.page(self.path))
        try:
            matched = self.routes.match_route(self.path)
        except ValueError:
            self._parse_payload()  # read the body off the connection before answering
            status, code, message = GATEWAY_ERRORS["MISSING_AUTHENTICATION_TOKEN"]
            return self._send_json(status, {"error": json.loads(message), "code": code})
        entry = self.app_routes.get(matched.route, {}).get(self.command)
        if self.verifier is None:
            # No sign-in on this stage: every request is the implicit learner's, whatever token a
            # proxy, an extension or a frontend sends (chalice local would try to decode it).
            del self.headers["Authorization"]
        elif entry is not None and entry.authorizer is not None:
            try:
                self.verifier.claims(self.headers.get("Authorization"))
            except InvalidToken as refused:
                self._parse_payload()
                return self._send_json(401, {"error": str(refused), "code": "unauthorized"})
        if not self.slots.acquire(timeout=self.slot_wait_seconds):
            self._parse_payload()
            return self._send_json(503, {"error": "The local server is busy; retry shortly.",
                                         "code": "unavailable"},
                                   {"Retry-After": str(RETRY_AFTER_SECONDS)})
        try:
            super()._generic_handle()
        finally:
            self.slots.release()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _send_json(self, status: int, body: dict, headers=None) -> None:
        self.request_id = str(uuid.uuid4())
        self._send_http_response(status, {
            "Content-Type": "application/json", "Access-Control-Allow-Origin": self.allow_origin,
            "X-Request-Id": self.request_id, **(headers or {})}, json.dumps(body))

    def _send_docs(self) -> None:
        page = self.docs.page(self.path)
        if page is None:
            return self._send_json(404, {"error": "No such page of the API docs.", "code": "not_found"})
        self._send_page(page)

    def _send_page(self, page) -> None:
        self._send_http_response(page.status, {"Content-Type": page.content_type}, page.body)

    def _send_http_response(self, code, headers, body) -> None:
        self.request_id = headers.get("X-Request-Id", self.request_id)
        super()._send_http_response(code, headers, body)

    def log_request(self, code="-", size="-") -> None:
        self.log_message('"%s" %s request_id=%s', self.requestline, code, self.request_id)


def handler_class(app, environ, verifier: Optional[TokenVerifier] = None) -> type:
    limits = dynamodb_limits(environ)
    return type("StageRequestHandler", (GatewayLikeRequestHandler,), {
        "routes": local.RouteMatcher(list(app.routes)),
        "binary_types": app.api.binary_types,
        "allow_origin": environ.get("CORS_ALLOW_ORIGIN", "*"),
        "slots": threading.BoundedSemaphore(limits.max_connections),
        "slot_wait_seconds": limits.budget_seconds,
        "docs": ApiDocs.install(),
        "web_app": WebApp(environ),
        "app_routes": app.routes,
        "verifier": verifier,
    })


def local_verifier(environ) -> Optional[TokenVerifier]:
    """The local pool's token check when the stage signs learners in; its settings are the file
    `AUTH=cognito make run` wrote (LOCAL_COGNITO_FILE)."""
    if environ.get("AUTH_MODE") != "cognito":
        return None
    settings = json.loads(Path(environ["LOCAL_COGNITO_FILE"]).read_text())
    # chalice local admits a request whose token it cannot decode, with a warning each time;
    # here every token was verified before it gets that far.
    warnings.filterwarnings("ignore", message="CognitoUserPoolAuthorizer is not a supported in local mode")
    return TokenVerifier.for_local_pool(settings)


def create_server(project_dir: str, stage: str, host: str, port: int) -> local.LocalDevServer:
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"  # as the chalice CLI sets it
    # AUTH=cognito make run signs learners in on the local stage: that setting outlives the stage's.
    overrides = signed_in_environment(os.environ)
    config = factory.CLIFactory(project_dir, environ=os.environ).create_config_obj(
        chalice_stage_name=stage
    )
    app = config.chalice_app  # loading it put the stage's variables into os.environ
    os.environ.update(overrides)
    validate_routes(app.routes)
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app.__class__)
    app.__class__ = local.CustomLocalChalice  # per-thread current_request, as chalice local does
    handler = handler_class(app, os.environ, local_verifier(os.environ))
    return local.LocalDevServer(app, config, host, port, handler_cls=handler, server_cls=TunedHTTPServer)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", default=os.getcwd())
    parser.add_argument("--stage", default="local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # not its credentials and endpoint lines
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = create_server(os.path.abspath(args.project_dir), args.stage, args.host, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
