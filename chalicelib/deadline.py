"""One request's DynamoDB time, retries included, bounded.

botocore bounds each attempt (connect and read timeouts) and counts attempts, but its
backoff is random and grows, so a silent DynamoDB used to cost 3 x 2 s plus backoff = 8 s.
Here botocore's own retries go on only while the worst case of one more attempt (its
largest backoff, then a whole attempt) still ends inside the request's budget."""
import threading
import time
from typing import Callable, Optional

# botocore's standard mode waits up to 2 ** (attempts - 1) seconds before the next attempt.
_BACKOFF_BASE = 2
_MAX_BACKOFF_SECONDS = 20


class RequestDeadline:
    def __init__(self, budget_seconds: float, attempt_seconds: float,
                 clock: Callable[[], float] = time.monotonic):
        self.budget_seconds = budget_seconds
        self._attempt_seconds = attempt_seconds
        self._clock = clock
        self._local = threading.local()  # chalice local serves requests on threads

    def start(self) -> None:
        """A request begins: its DynamoDB calls share one budget from now."""
        self._local.deadline = self._clock() + self.budget_seconds

    def attach(self, client) -> None:
        client.meta.events.register_first(
            "needs-retry.dynamodb", self._veto_late_retry, unique_id="request-deadline"
        )

    def _veto_late_retry(self, attempts: int, **_) -> Optional[bool]:
        """False stops botocore's retries (the last error is raised); None leaves it to them."""
        deadline = getattr(self._local, "deadline", None)
        if deadline is None:
            return None
        backoff = min(_MAX_BACKOFF_SECONDS, _BACKOFF_BASE ** (attempts - 1))
        if self._clock() + backoff + self._attempt_seconds > deadline:
            return False
        return None
