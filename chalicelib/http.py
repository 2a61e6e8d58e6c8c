"""Everything HTTP: reading the request body, shaping success and error responses,
and the one middleware that turns every error into {"error", "code"} JSON."""
import functools
import json
import logging
import traceback
from typing import Any, Callable, Optional

from chalice import CORSConfig, Response
from chalice.app import Request

from chalicelib.core import metrics
from chalicelib.core.errors import ApiError, InternalError, MethodNotAllowed
from chalicelib.core.validation import check_media_type, parse_json

# Chalice answers some requests itself with {"Code", "Message"}; these are its statuses.
_CHALICE_STATUS_CODES = {
    400: "validation_error",
    404: "not_found",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def json_body(request: Request) -> Any:
    check_media_type(request.headers.get("content-type"))
    return parse_json(request.raw_body or b"")


def query(request: Request) -> dict:
    return dict(request.query_params or {})


def session_created(request: Request, session: dict, replayed: bool) -> Response:
    """201 with the session, `session_id` (what the lang-portal frontend reads) and Location."""
    location = f"{_base_path(request)}/api/study-sessions/{session['id']}"
    return created({**session, "session_id": session["id"]}, replayed, {"Location": location})


def json_or_null(body: Optional[dict]) -> Response:
    """200 with the body, or with the JSON literal null where there is nothing to show."""
    return Response(body="null" if body is None else body, status_code=200)


def attachment(body: dict, filename: str) -> Response:
    """200 with the body, which a browser saves as ``filename`` and no cache keeps."""
    return Response(body=body, status_code=200,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


def accepted(body: dict) -> Response:
    return Response(body=body, status_code=202)


def created(body: dict, replayed: bool, headers: Optional[dict] = None) -> Response:
    headers = dict(headers or {})
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(body=body, status_code=201, headers=headers)


def _base_path(request: Request) -> str:
    """What precedes the route in the URL the client called: "/prod" on the execute-api host,
    the base path mapping on a custom domain, "" on `chalice local`."""
    context = request.context or {}
    called, route = context.get("path", "").rstrip("/"), context.get("resourcePath", "")
    return called[: -len(route)] if route and called.endswith(route) else ""


def translate_exceptions(view: Callable) -> Callable:
    """Let every exception of a view reach the error middleware as an ApiError."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except ApiError:
            raise
        except Exception as error:
            raise InternalError(cause=f"{type(error).__name__}: {error}") from error

    return wrapper


def json_middleware(app, cors: CORSConfig) -> Callable:
    """Every response is JSON with a Content-Type; every error is {"error", "code"}."""

    def json_responses(request: Request, get_response: Callable) -> Response:
        error, request_id = None, _request_id(app, request)
        try:
            response = get_response(request)
        except ApiError as raised:
            error = raised
        else:
            if response.status_code >= 400 and _is_chalice_error(response.body):
                error = _from_chalice(request, response)
        if error is not None:
            response = _error_response(app, request, request_id, error, cors)
        response.headers.setdefault("Content-Type", "application/json")
        response.headers["X-Request-Id"] = request_id
        reviews = response.body.get("reviews") if isinstance(response.body, dict) else None
        metrics.emit(metrics.request_metrics(
            (request.context or {}).get("resourcePath", ""), response.status_code,
            "Idempotent-Replayed" in response.headers, error.code if error else None,
            getattr(error, "throttled", False), len(reviews) if isinstance(reviews, list) else 1))
        return response

    return json_responses


# Every method API Gateway can route but OPTIONS, which is the CORS preflight.
ROUTABLE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
REFUSING_VIEW_PREFIX = "method_not_allowed_"


def refuse_other_methods(app, cors: CORSConfig) -> None:
    """Route every other method of each path to a 405 with Allow. API Gateway has no method
    for them otherwise and answers 403 "Missing Authentication Token" (our 404) when
    deployed, while `chalice local` answers 405: this way both answer the same. On a path of
    learner routes they carry the same authorizer: an anonymous call is 401 at the gateway and
    spends none of the function's concurrency."""
    for number, (path, entries) in enumerate(sorted(app.routes.items())):
        served = sorted(entries)
        others = [method for method in ROUTABLE_METHODS if method not in served]
        if not others:
            continue
        authorizer = next((entry.authorizer for entry in entries.values() if entry.authorizer), None)

        app.route(path, methods=others, cors=cors, content_types=["*/*"], authorizer=authorizer)(
            _refusing_view(app, f"{REFUSING_VIEW_PREFIX}{number}", ", ".join(served))
        )


def _refusing_view(app, name: str, allowed: str) -> Callable:
    def refuse(**_):
        raise MethodNotAllowed(app.current_request.method, allowed)

    refuse.__name__ = name
    return refuse


def _is_chalice_error(body) -> bool:
    return isinstance(body, dict) and set(body) == {"Code", "Message"}


def _from_chalice(request: Request, response: Response) -> ApiError:
    error = ApiError(cause=f"Chalice {response.body['Code']}")
    error.status = response.status_code
    error.code = _CHALICE_STATUS_CODES.get(response.status_code, "internal_error")
    if error.status < 500:
        error.message = str(response.body["Message"])
    return error


def _request_id(app, request: Request) -> str:
    """API Gateway's id of this request (the dev server sets one too). Only an event without
    one (a direct invoke) falls back to the invocation's: Lambda runs one at a time."""
    context = getattr(request, "context", None) or {}
    lambda_context = getattr(app, "lambda_context", None)
    return context.get("requestId") or getattr(lambda_context, "aws_request_id", "unknown")


def _error_response(app, request: Request, request_id: str, error: ApiError, cors: CORSConfig) -> Response:
    body = {"error": error.message, "code": error.code}
    if error.status >= 500:
        body["request_id"] = request_id
    line = {
        "event": "error_reply",
        "request_id": request_id,
        "method": getattr(request, "method", None),
        "path": getattr(request, "path", None),
        "status": error.status,
        "code": error.code,
        "cause": error.cause or error.message,
    }
    if error.status >= 500 and error.__cause__ is not None:
        line["traceback"] = "".join(traceback.format_exception(error.__cause__))
    app.log.log(logging.ERROR if error.status >= 500 else logging.INFO, json.dumps(line))
    headers = {**cors.get_access_control_headers(), **error.headers}
    return Response(body=body, status_code=error.status, headers=headers)
