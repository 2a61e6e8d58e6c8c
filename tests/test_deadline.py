"""chalicelib.storage.deadline on its own, with a fake clock: no attempt after the budget, none after
a success, at most two, and a write's unknown outcome said as such."""
import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from chalicelib.core.errors import OutcomeUnknown, Unavailable
from chalicelib.storage.deadline import Attempts, DynamoDBLimits, RequestDeadline

LIMITS = DynamoDBLimits(connect_timeout=0.25, read_timeout=0.6, budget_seconds=2.5, max_connections=10)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


def attempts(clock):
    deadline = RequestDeadline(clock)
    deadline.start()
    return deadline, Attempts(LIMITS, deadline, sleep=clock.sleep, clock=clock)


def sender(clock, outcomes, takes=0.6):
    """Each call takes ``takes`` seconds and raises or returns the next outcome."""
    sent = []

    def send():
        sent.append(clock.now)
        clock.now += takes
        outcome = outcomes[len(sent) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return send, sent


def test_a_success_is_sent_once(clock):
    _, run = attempts(clock)
    send, sent = sender(clock, ["ok", "never"])

    assert run.run(send) == "ok"
    assert len(sent) == 1


def test_a_transient_failure_is_sent_twice_at_most(clock):
    _, run = attempts(clock)
    send, sent = sender(clock, [ConnectTimeoutError(endpoint_url="x")] * 3, takes=0.25)

    with pytest.raises(Unavailable):
        run.run(send)
    assert len(sent) == 2


def test_no_attempt_is_sent_that_would_end_after_the_budget(clock):
    _, run = attempts(clock)
    clock.now += 1.7  # 0.8 s of the 2.5 s left: less than one attempt's 0.85 s
    send, sent = sender(clock, ["ok"])

    with pytest.raises(Unavailable) as refused:
        run.run(send)
    assert sent == [] and "budget" in refused.value.cause


def test_the_second_attempt_only_if_it_still_fits(clock):
    _, run = attempts(clock)
    clock.now += 1.1  # the first attempt fits; after its 0.6 s, 0.8 s is left: not for another 0.85
    send, sent = sender(clock, [ReadTimeoutError(endpoint_url="x"), "ok"])

    with pytest.raises(Unavailable):
        run.run(send)
    assert len(sent) == 1


def test_a_write_that_may_have_landed_is_outcome_unknown_a_read_is_not(clock):
    _, run = attempts(clock)
    send, _ = sender(clock, [ReadTimeoutError(endpoint_url="x")] * 2)
    with pytest.raises(OutcomeUnknown):
        run.run(send, write=True)

    _, run = attempts(clock)
    send, _ = sender(clock, [ReadTimeoutError(endpoint_url="x")] * 2)
    with pytest.raises(Unavailable) as raised:
        run.run(send, write=False)
    assert not isinstance(raised.value, OutcomeUnknown)
