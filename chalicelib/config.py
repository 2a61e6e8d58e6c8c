"""Settings from the stage's environment, and the one DynamoDB client per process.

The endpoint comes from botocore's own AWS_ENDPOINT_URL_DYNAMODB when set."""
import os
from typing import Mapping, Optional

import boto3
from botocore.config import Config
from chalice import CORSConfig

from chalicelib.errors import InternalError
from chalicelib.references import ReferenceCache
from chalicelib.schema import TABLES
from chalicelib.service import StudySessionService
from chalicelib.store import DynamoStore

# A Lambda must not hang on the 60 s botocore defaults. With these, one DynamoDB
# call gives up after at most 3 attempts x 2 s plus ~3 s of backoff = 9 s; a create
# makes at most two calls, 18 s, inside the 20 s Lambda timeout and API Gateway's 29 s.
DYNAMODB_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "max_attempts": 3},
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
    store = DynamoStore(
        client or dynamodb_client(),
        groups_table=names["groups"],
        activities_table=names["study_activities"],
        sessions_table=names["study_sessions"],
    )
    return StudySessionService(store, ReferenceCache(store))


def cors_config(environ: Optional[Mapping[str, str]] = None) -> CORSConfig:
    environ = os.environ if environ is None else environ
    return CORSConfig(
        allow_origin=environ.get("CORS_ALLOW_ORIGIN", "*"),
        allow_headers=["Idempotency-Key"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
