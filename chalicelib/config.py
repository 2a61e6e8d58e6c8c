"""Settings from the stage's environment, and the one DynamoDB client per process.

The endpoint comes from botocore's own AWS_ENDPOINT_URL_DYNAMODB when set."""
import os
from typing import Mapping, Optional

import boto3
from botocore.config import Config
from chalice import CORSConfig

from chalicelib.deadline import RequestDeadline
from chalicelib.errors import InternalError
from chalicelib.references import ReferenceCache
from chalicelib.schema import TABLES
from chalicelib.service import StudySessionService
from chalicelib.store import DynamoStore

# A warm DynamoDB call takes single-digit milliseconds; these bound the rare bad one. Each
# attempt: connect 0.25 s, first byte 0.6 s. botocore retries (standard mode, 3 attempts) only
# while another attempt still fits in the request's 2.5 s: a silent DynamoDB answers 503 within
# 2.5 s, a refused connection within about 1 s (one retry after a random backoff under 1 s).
DYNAMODB_CONFIG = Config(
    connect_timeout=0.25,
    read_timeout=0.6,
    retries={"mode": "standard", "max_attempts": 3},
)
REQUEST_DEADLINE = RequestDeadline(
    budget_seconds=2.5, attempt_seconds=DYNAMODB_CONFIG.connect_timeout + DYNAMODB_CONFIG.read_timeout
)
EXPOSED_HEADERS = ["Location", "Idempotent-Replayed", "Retry-After", "X-Request-Id"]


def table_names(environ: Optional[Mapping[str, str]] = None) -> dict:
    """Logical table name -> the stage's DynamoDB table name."""
    environ = os.environ if environ is None else environ
    missing = [table.env_var for table in TABLES.values() if not environ.get(table.env_var)]
    if missing:
        raise InternalError(cause=f"environment variables not set: {', '.join(missing)}")
    return {name: environ[table.env_var] for name, table in TABLES.items()}


def dynamodb_client():
    return boto3.client("dynamodb", config=DYNAMODB_CONFIG)


def build_service(environ: Optional[Mapping[str, str]] = None, client=None) -> StudySessionService:
    """Reads the environment when called, not when imported: Chalice's test client sets the
    stage's variables only while a request runs (it swaps ``os.environ`` itself)."""
    names = table_names(environ)
    client = client or dynamodb_client()
    REQUEST_DEADLINE.attach(client)
    store = DynamoStore(client, names)
    return StudySessionService(store, ReferenceCache(store))


def cors_config(environ: Optional[Mapping[str, str]] = None) -> CORSConfig:
    environ = os.environ if environ is None else environ
    return CORSConfig(
        allow_origin=environ.get("CORS_ALLOW_ORIGIN", "*"),
        allow_headers=["Idempotency-Key"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
