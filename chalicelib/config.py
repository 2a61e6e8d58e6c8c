"""Settings from the stage's environment, and the one DynamoDB client per process.

The endpoint comes from botocore's own AWS_ENDPOINT_URL_DYNAMODB when set."""
import os
from typing import Mapping, Optional

import boto3
from botocore.config import Config
from chalice import CORSConfig

from chalicelib.core.errors import InternalError
from chalicelib.learners.accounts import CognitoAccounts
from chalicelib.learners.histories import Histories
from chalicelib.learners.reference_cache import ReferenceCache
from chalicelib.services import Services
from chalicelib.storage.deadline import Attempts, DynamoDBLimits, RequestDeadline
from chalicelib.storage.schema import TABLES
from chalicelib.storage.store import build_store

# A warm DynamoDB call takes single-digit milliseconds; these bound the rare bad one: each
# attempt may take 0.25 s to connect and 0.6 s to the first byte, and all the calls of one
# request, second attempts included, end inside 2.5 s. A Lambda container serves one request at
# a time, so 10 connections are plenty. A stage may set each one in its environment
# (.chalice/config.json): the `local` stage does, as DynamoDB Local on a laptop is much slower
# under a burst than DynamoDB.
DEPLOYED_LIMITS = DynamoDBLimits(connect_timeout=0.25, read_timeout=0.6, budget_seconds=2.5,
                                 max_connections=10)
LIMIT_VARIABLES = {
    "connect_timeout": "DYNAMODB_CONNECT_TIMEOUT",
    "read_timeout": "DYNAMODB_READ_TIMEOUT",
    "budget_seconds": "DYNAMODB_REQUEST_BUDGET",
    "max_connections": "DYNAMODB_MAX_CONNECTIONS",
}
REQUEST_DEADLINE = RequestDeadline()
# A stage signs its learners in with Cognito unless it says otherwise; `none` serves one implicit
# learner (make run, the stock lang-portal frontend). Resetting a history is off unless enabled.
AUTH_MODES = ("cognito", "none")
RESET_SETTINGS = {"enabled": True, "disabled": False}
EXPOSED_HEADERS = ["Location", "Idempotent-Replayed", "Retry-After", "X-Request-Id"]


def table_names(environ: Optional[Mapping[str, str]] = None) -> dict:
    """Logical table name -> the stage's DynamoDB table name."""
    environ = os.environ if environ is None else environ
    missing = [table.env_var for table in TABLES.values() if not environ.get(table.env_var)]
    if missing:
        raise InternalError(cause=f"environment variables not set: {', '.join(missing)}")
    return {name: environ[table.env_var] for name, table in TABLES.items()}


def _choice(environ: Mapping[str, str], variable: str, choices, default: str) -> str:
    value = environ.get(variable, default)
    if value not in choices:
        raise InternalError(cause=f"{variable} must be one of {', '.join(choices)}: {value!r}")
    return value


def auth_mode(environ: Optional[Mapping[str, str]] = None) -> str:
    return _choice(os.environ if environ is None else environ, "AUTH_MODE", AUTH_MODES, "cognito")


def resets_enabled(environ: Optional[Mapping[str, str]] = None) -> bool:
    environ = os.environ if environ is None else environ
    return RESET_SETTINGS[_choice(environ, "RESET_HISTORY", RESET_SETTINGS, "disabled")]


def _number(environ: Mapping[str, str], variable: str, default):
    """The variable as a number of the default's type, or the default when it is unset."""
    try:
        return type(default)(environ.get(variable, default))
    except ValueError:
        raise InternalError(cause=f"{variable} is not a number: {environ[variable]!r}") from None


def dynamodb_limits(environ: Optional[Mapping[str, str]] = None) -> DynamoDBLimits:
    environ = os.environ if environ is None else environ
    return DynamoDBLimits(**{field: _number(environ, variable, getattr(DEPLOYED_LIMITS, field))
                             for field, variable in LIMIT_VARIABLES.items()})


def dynamodb_client(limits: DynamoDBLimits = DEPLOYED_LIMITS):
    """botocore retries nothing itself: chalicelib.storage.deadline.Attempts does, within the budget."""
    return boto3.client("dynamodb", config=Config(
        connect_timeout=limits.connect_timeout,
        read_timeout=limits.read_timeout,
        max_pool_connections=limits.max_connections,
        retries={"mode": "standard", "total_max_attempts": 1},
    ))


def build_services(environ: Optional[Mapping[str, str]] = None, client=None, **clock) -> Services:
    """Reads the environment when called, not when imported: Chalice's test client sets the
    stage's variables only while a request runs (it swaps ``os.environ`` itself). ``clock``:
    tests may give one."""
    environ = os.environ if environ is None else environ
    names, limits = table_names(environ), dynamodb_limits(environ)
    client = client or dynamodb_client(limits)
    store = build_store(client, names, Attempts(limits, REQUEST_DEADLINE))
    signed_in = auth_mode(environ) == "cognito"
    histories = Histories(store.histories, resets_enabled(environ), erasable=signed_in)
    return Services.build(store, ReferenceCache(store.references), histories, **clock,
                          erasure_seconds=erasure_seconds(environ), fit_queue=queue(environ, "FIT"),
                          recompute_queue=recompute_queue(environ))


def queue(environ: Mapping[str, str], name: str):
    """The queue <name>: the SQS queue <name>_QUEUE_URL deployed, the directory <name>_QUEUE_DIR
    locally (`make run`'s poller drains it); None where neither is set."""
    from chalicelib.storage.queues import DirectoryQueue, SqsQueue

    if environ.get(f"{name}_QUEUE_URL"):
        return SqsQueue(environ[f"{name}_QUEUE_URL"], lambda: boto3.client("sqs", config=Config(
            connect_timeout=1, read_timeout=3, retries={"mode": "standard", "max_attempts": 2})))
    if environ.get(f"{name}_QUEUE_DIR"):
        return DirectoryQueue(environ[f"{name}_QUEUE_DIR"])
    return None


def recompute_queue(environ: Mapping[str, str]):
    """The recompute of a learner's memories after a change of their scheduler: messages of the
    RECOMPUTE queue where one is set; otherwise (the tests' own servers) a thread of this process
    (chalicelib.services.BackgroundRecompute)."""
    from chalicelib.services import SETTLE_SECONDS
    from chalicelib.storage.queues import RecomputeMessages

    found = queue(environ, "RECOMPUTE")
    return RecomputeMessages(found, int(SETTLE_SECONDS)) if found is not None else None


def build_recomputer(environ: Optional[Mapping[str, str]] = None, client=None):
    """The recompute queue's handler (chalicelib.streams.recompute ``handle``), given its event."""
    from chalicelib.streams.recompute import handle  # the recompute function's own

    environ = os.environ if environ is None else environ
    services = build_services(environ, client=client or background_client())
    return lambda event: handle(services.store, event, services.histories.is_current)


def build_fitting_worker(environ: Optional[Mapping[str, str]] = None, client=None, fitter=None,
                         recompute_queue=None, **clock):
    """The fit queue's handler (chalicelib.streams.fitting): the fitter is the Lambda function
    FITTER_FUNCTION deployed, `node functions/fitting/cli.mjs` where it is not set."""
    from chalicelib.streams.fitter import LambdaFitter, NodeFitter  # the fitting function's own
    from chalicelib.streams.fitting import FittingWorker

    environ = os.environ if environ is None else environ
    services = build_services(environ, client=client or background_client(), **clock)
    if fitter is None and environ.get("FITTER_FUNCTION"):
        fitter = LambdaFitter(environ["FITTER_FUNCTION"], lambda: boto3.client("lambda", config=Config(
            connect_timeout=2, read_timeout=900, retries={"mode": "standard", "max_attempts": 1})))
    return FittingWorker(services.store, fitter or NodeFitter(), recompute_queue or services.recompute_queue,
                         services.clock, services.histories.is_current)


def cognito_client(region: Optional[str]):
    """In the pool's region (a pool id is "<region>_<id>"); the endpoint comes from botocore's own
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER when set (make run's local Cognito)."""
    return boto3.client("cognito-idp", region_name=region, config=Config(
        connect_timeout=1, read_timeout=3, retries={"mode": "standard", "max_attempts": 2}))


def background_client():
    """The consumer and the purge have no client waiting: botocore's own retries (standard
    mode) serve them, and what still fails is retried by Lambda (the consumer's markers, the
    purge's idempotent deletes make any resend exact)."""
    return boto3.client("dynamodb", config=Config(
        connect_timeout=1, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}))


def build_aggregate_writer(environ: Optional[Mapping[str, str]] = None):
    from chalicelib.streams.aggregates import AggregateWriter  # not on the API's cold path

    return AggregateWriter(background_client(), table_names(environ))


DEFAULT_GRACE_SECONDS = 600


def purge_grace_seconds(environ: Optional[Mapping[str, str]] = None) -> float:
    """PURGE_GRACE_SECONDS: how old a reset must be before its history is deleted. It must
    exceed the request budget: a create that read the old epoch just before the reset may
    write into it for that long, and the purge must come after it."""
    environ = os.environ if environ is None else environ
    grace = _number(environ, "PURGE_GRACE_SECONDS", float(DEFAULT_GRACE_SECONDS))
    budget = dynamodb_limits(environ).budget_seconds
    if grace <= budget:
        raise InternalError(cause=(
            f"PURGE_GRACE_SECONDS ({grace:g} s) must exceed DYNAMODB_REQUEST_BUDGET ({budget:g} s): "
            "a create of the old history may still land that long after a reset."))
    return grace


PURGE_EVERY_MINUTES = 15  # the scheduled purge's rate (app.py); make run's poller runs it sooner


def erasure_seconds(environ: Optional[Mapping[str, str]] = None) -> float:
    """How long after an erasure the purge has deleted all of it, at most: the grace, the wait
    for the next run (PURGE_INTERVAL_SECONDS, the schedule's by default), and a minute to run."""
    environ = os.environ if environ is None else environ
    interval = _number(environ, "PURGE_INTERVAL_SECONDS", float(PURGE_EVERY_MINUTES * 60))
    return purge_grace_seconds(environ) + interval + 60


def build_purger(environ: Optional[Mapping[str, str]] = None, client=None):
    """The purge, with the stage's user pool where learners sign in (and so may erase their
    account); ``client``: tests may give the DynamoDB client."""
    from chalicelib.streams.purge import HistoryPurger  # not on the API's cold path

    environ = os.environ if environ is None else environ
    accounts = None
    if auth_mode(environ) == "cognito":
        pool_id = environ.get("USER_POOL_ID", "")
        accounts = CognitoAccounts(lambda: cognito_client(pool_id.split("_")[0] or None), pool_id)
    return HistoryPurger(client or background_client(), table_names(environ), purge_grace_seconds(environ),
                         delete_account=accounts.delete if accounts else None)


def cors_config(environ: Optional[Mapping[str, str]] = None) -> CORSConfig:
    environ = os.environ if environ is None else environ
    return CORSConfig(
        allow_origin=environ.get("CORS_ALLOW_ORIGIN", "*"),
        allow_headers=["Idempotency-Key"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
