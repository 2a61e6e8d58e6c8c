"""One request's DynamoDB time, and the attempts of each DynamoDB call inside it.

botocore's own retries are off (one attempt a call): how a `needs-retry` handler's answer is
read changed in botocore 1.43.3 (before it, False meant "retry now"), and the Lambda runtimes
bundle older botocore than we test with. Here each call is attempted at most twice, and an
attempt is sent only if it can end (connect + read timeout) inside the request's budget, so the
bound holds on every botocore. A write whose answer was lost is resent unchanged: its
conditions and tokens make the resend recognise an earlier success (see chalicelib.storage.store)."""
import random
import threading
import time
from typing import Callable, NamedTuple, TypeVar

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ProxyConnectionError,
    SSLError,
)
from botocore.exceptions import ConnectionError as TransportConnectionError

from chalicelib.core.errors import OutcomeUnknown, Unavailable

T = TypeVar("T")
MAX_ATTEMPTS = 2
BACKOFF_SECONDS = (0.02, 0.2)  # uniform jitter before the second attempt
# "Retry shortly" answers: DynamoDB's throttling codes, and any answer with a 5xx status.
THROTTLING_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
})
RETRYABLE_CODES = THROTTLING_CODES | {
    "TransactionInProgressException",
    "InternalServerError",
    "ServiceUnavailable",
}
# The transport failures botocore itself treats as transient (refused, timed out, reset, TLS,
# proxy): DynamoDB may be fine a moment later.
UNREACHABLE = (TransportConnectionError, HTTPClientError)
# These fail before the request is sent (no connection, no TLS session): nothing was written.
NOT_SENT = (ConnectTimeoutError, EndpointConnectionError, ProxyConnectionError, SSLError)


class DynamoDBLimits(NamedTuple):
    """A stage's bounds on DynamoDB time (seconds) and connections: see .chalice/config.json."""
    connect_timeout: float
    read_timeout: float
    budget_seconds: float
    max_connections: int

    @property
    def attempt_seconds(self) -> float:
        return self.connect_timeout + self.read_timeout


def _status(error: ClientError) -> int:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


def is_transient(error: Exception) -> bool:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        return code in RETRYABLE_CODES or _status(error) >= 500
    return isinstance(error, UNREACHABLE)


def _may_have_applied(error: Exception) -> bool:
    """Whether a write that failed this way may still have been applied by DynamoDB."""
    if isinstance(error, ClientError):
        return _status(error) >= 500  # an internal error does not say whether the write landed
    return not isinstance(error, NOT_SENT)


def describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        return f"DynamoDB {error.response.get('Error', {}).get('Code', 'Unknown')} (HTTP {_status(error)})"
    return f"DynamoDB unreachable: {type(error).__name__}"


class RequestDeadline:
    """When the current request's DynamoDB budget ends; per thread, as `chalice local` serves
    requests on threads. Outside a request (a script, a stream batch) each call has a budget
    of its own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._local = threading.local()

    def start(self) -> None:
        self._local.started = self._clock()

    def clear(self) -> None:
        """The request ended: outside a request from here on (a queue's message, a schedule run
        on a thread that served requests before), each call has a budget of its own."""
        self._local.__dict__.pop("started", None)

    def seconds_left(self, budget_seconds: float, call_started: float) -> float:
        started = getattr(self._local, "started", call_started)
        return started + budget_seconds - self._clock()


class Attempts:
    def __init__(self, limits: DynamoDBLimits, deadline: RequestDeadline,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self._limits = limits
        self._deadline = deadline
        self._sleep = sleep
        self._clock = clock

    def run(self, send: Callable[[], T], write: bool = False) -> T:
        """``send()`` at most twice: again only after a transient failure, and only if the
        attempt can end inside the budget. Raises Unavailable, or OutcomeUnknown for a write
        that may have been applied and could not be confirmed in time."""
        call_started, last, unknown = self._clock(), None, False
        for attempt in range(MAX_ATTEMPTS):
            if not self.pause(random.uniform(*BACKOFF_SECONDS) if attempt else 0.0, call_started):
                break
            try:
                return send()
            except (ClientError, *UNREACHABLE) as error:
                if not is_transient(error):
                    raise
                last, unknown = error, unknown or (write and _may_have_applied(error))
        cause = describe(last) if last else "DynamoDB time budget spent before the call"
        throttled = isinstance(last, ClientError) and last.response["Error"].get("Code") in THROTTLING_CODES
        if unknown:
            raise OutcomeUnknown(cause=cause) from last
        raise Unavailable(cause=cause, throttled=throttled) from last

    def pause(self, seconds: float, call_started: float) -> bool:
        """Sleep ``seconds`` and answer True if one more attempt still ends inside the budget
        after them; otherwise answer False at once."""
        left = self._deadline.seconds_left(self._limits.budget_seconds, call_started)
        if seconds + self._limits.attempt_seconds > left:
            return False
        if seconds:
            self._sleep(seconds)
        return True
