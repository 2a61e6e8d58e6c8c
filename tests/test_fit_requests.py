"""A fit of the learner's parameters asked for through the API (POST /api/me/scheduler/fit) and
run off the request path (chalicelib.streams.fitting), the fitting engine real (node
functions/fitting/cli.mjs): a simulated learner whose true parameters differ from the defaults,
reviewed through the HTTP API, is fitted and the fit adopted, and their later reviews' 201
retrievability predicts their answers better than the defaults would; a fit that does not predict
the newest reviews better is kept out. On moto and DynamoDB Local."""
import json
import math
import random
from datetime import UTC, datetime, timedelta

import fsrs
import pytest

import app as app_module
from chalicelib.core.scheduling import DEFAULT_PARAMETERS
from chalicelib.storage.access import running_as
from chalicelib.storage.dynamo import from_item, to_item
from chalicelib.storage.queues import DirectoryQueue
from chalicelib.storage.schema import SCHEDULER_WORD_ID, TOTALS
from chalicelib.streams.fitter import NodeFitter
from chalicelib.streams.fitting import MAX_REVIEWS, FittingWorker
from chalicelib.streams.purge import HistoryPurger
from chalicelib.streams.recompute import recompute
from chalicelib.study.scheduler import FIT_PENDING_SECONDS
from tests.test_fitting import fitting_cli  # noqa: F401 - fitting_cli is a fixture

OWNER = "implicit#0"
START = datetime(2025, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
FIT_DAYS, LATER_DAYS = 240, 40
NOW = START + (FIT_DAYS + LATER_DAYS + 1) * DAY
FIRST_WORD = 101
# A learner who forgets much faster than the defaults say: low initial stabilities, slow growth.
TRUE_PARAMETERS = list(DEFAULT_PARAMETERS)
TRUE_PARAMETERS[0:4] = [0.1, 0.3, 0.6, 2.0]
TRUE_PARAMETERS[8] = 1.0


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class Recomputes:
    def __init__(self):
        self.sent = []

    def send(self, owner, version):
        self.sent.append((owner, version))


class Context:
    aws_request_id = "test"
    function_name = "fitting"
    memory_limit_in_mb = 512

    @staticmethod
    def get_remaining_time_in_millis():
        return 60_000


class Fitting:
    """The fit queue (the local adapter, a directory) and its worker, as `make run`'s poller runs it."""

    def __init__(self, api, path, fitter):
        self.api, self.queue, self.recomputes = api, DirectoryQueue(path), Recomputes()
        self.clock = Clock(NOW)
        api.restart(clock=self.clock)
        app_module._services = app_module._services._replace(fit_queue=self.queue,
                                                              recompute_queue=self.recomputes)
        app_module._scheduler = None
        self.worker(fitter)

    def worker(self, fitter):
        """The fitting function's handler, on the services as they are now."""
        services = app_module.services()
        app_module._fitting_worker = FittingWorker(services.store, fitter, self.recomputes, self.clock,
                                                   services.histories.is_current)

    def drain(self):
        return self.queue.drain(lambda event: app_module.fit_learners(event, Context()))

    def messages(self):
        return [json.loads(body) for _, body in self.queue.messages()]

    def post(self):
        return self.api.http._http.post("/api/me/scheduler/fit", headers={"Content-Type": "application/json"},
                                  body="{}")

    def scheduler(self):
        response = self.api.get("/api/me/scheduler")
        assert response.status_code == 200
        return response.json_body


class Refused:
    """A fitter that must not be called."""

    def fit(self, reviews, parameters):
        raise AssertionError("the fitter was called")


@pytest.fixture
def dynamodb(request):
    """DynamoDB Local only: thousands of reviews, and the races of a real store."""
    from devtools import dynamodb_local

    yield dynamodb_local.client(request.getfixturevalue("dynamodb_local_server").endpoint)


@pytest.fixture
def fitting(api, tmp_path, monkeypatch, fitting_cli):  # noqa: F811 - the imported fixture
    monkeypatch.setattr(app_module, "_fitting_worker", None)
    return Fitting(api, tmp_path / "fit-queue", NodeFitter(fitting_cli))


def simulated(seed=5, words=150, per_day=2, days=FIT_DAYS + LATER_DAYS):
    """A learner who forgets faster than the defaults say (TRUE_PARAMETERS), reviewing
    when the default scheduler has a word due; time-ordered."""
    rng = random.Random(seed)
    planner = fsrs.Scheduler(enable_fuzzing=False)
    truth = fsrs.Scheduler(parameters=TRUE_PARAMETERS, enable_fuzzing=False)
    reviews = []
    for word in range(words):
        at = START + (word // per_day) * DAY + timedelta(seconds=8 * 3600 + rng.randrange(12 * 3600))
        planned, memory = fsrs.Card(), fsrs.Card()
        while at < START + days * DAY:
            recall = truth.get_card_retrievability(memory, at) if memory.last_review else 0.5
            correct = rng.random() < recall
            rating = fsrs.Rating.Good if correct else fsrs.Rating.Again
            reviews.append({"word_id": FIRST_WORD + word, "at": at, "correct": correct})
            memory, _ = truth.review_card(memory, rating, at)
            planned, _ = planner.review_card(planned, rating, at)
            late = rng.randrange(300) if planned.due - at < DAY else rng.randrange(86400)
            at = planned.due + timedelta(seconds=late)
    return sorted(reviews, key=lambda review: review["at"])


def study(api, reviews, words):
    """The words in group 1, a session, and the reviews sent as rounds of 100, in time order."""
    for word in range(FIRST_WORD, FIRST_WORD + words):
        api.put_reference("words", {"id": word, "kanji": f"語{word}", "romaji": f"go{word}",
                                    "english": f"word {word}", "parts": "[]", "group_ids": [1]})
    app_module._services.cache.__init__(app_module._services.store.references)  # a fresh cache
    created = api.post({"group_id": 1, "study_activity_id": 1, "created_at": stamp(START)})
    assert created.status_code == 201, created.body
    session = created.json_body["id"]
    for review in reviews:
        send_review(api, session, review)
    from chalicelib.streams.audit import rebuild

    rebuild(api.dynamodb, api.names)  # what the stream consumer counts: the learner's reviews
    return session


def send_review(api, session, review):
    """One review through the API (its sessions' figures are not needed here: no settling)."""
    answer = api.http._http.post(f"/api/study-sessions/{session}/review",
                                 headers={"Content-Type": "application/json"}, body=json.dumps({
                                     "word_id": review["word_id"], "correct": review["correct"],
                                     "reviewed_at": stamp(review["at"])}))
    assert answer.status_code == 201, answer.body
    return answer.json_body["memory"]


def log_loss(pairs):
    return -sum(math.log(p if correct else 1 - p) for p, correct in pairs) / len(pairs)


def default_predictions(history, later):
    """The retrievability the defaults give each later review, from its word's whole history."""
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    cards, pairs = {}, []
    later_ids = {id(review) for review in later}
    for review in history:
        card = cards.get(review["word_id"], fsrs.Card())
        if id(review) in later_ids and card.last_review is not None:
            pairs.append((scheduler.get_card_retrievability(card, review["at"]), review["correct"]))
        rating = fsrs.Rating.Good if review["correct"] else fsrs.Rating.Again
        cards[review["word_id"]], _ = scheduler.review_card(card, rating, review["at"])
    return pairs


def test_a_learner_unlike_the_defaults_is_fitted_and_their_later_reviews_are_predicted_better(api, fitting):
    reviews = simulated()
    cut = START + FIT_DAYS * DAY
    earlier = [review for review in reviews if review["at"] < cut]
    later = [review for review in reviews if review["at"] >= cut]
    assert len(earlier) >= 1000 and len(later) >= 100
    session = study(api, earlier, 150)

    first, second = fitting.post(), fitting.post()
    assert first.status_code == 202 and second.status_code == 202, first.body
    assert first.json_body["location"] == "/api/me/scheduler"
    assert second.json_body["requested_at"] == first.json_body["requested_at"]
    assert fitting.messages() == [{"owner": OWNER, "requested_at": stamp(NOW), "counted": len(earlier)}]
    assert fitting.scheduler()["fit_requested_at"] == stamp(NOW)

    assert fitting.drain() == 1
    fitted = fitting.scheduler()
    assert fitted["source"] == "fitted", fitted["last_fit"]
    assert fitted["version"] == 1 and fitted["reviews_used"] == len(earlier)
    assert fitted["fit_requested_at"] is None and fitted["last_fit"]["adopted"] is True
    assert fitted["evaluation"]["log_loss"] < fitted["evaluation"]["default_log_loss"]
    assert fitting.recomputes.sent == [(OWNER, 1)]
    assert recompute(app_module.services().store, OWNER).version == 1

    pairs = []
    for review in later:
        memory = send_review(api, session, review)
        if memory["retrievability"] is not None:
            pairs.append((memory["retrievability"], review["correct"]))
    defaults = default_predictions(reviews, later)
    assert len(pairs) == len(defaults) > 50
    assert log_loss(pairs) < log_loss(defaults)


def test_a_fit_that_predicts_the_newest_reviews_worse_is_kept_out_and_says_why(api, fitting):
    reviews = [review for review in simulated(days=FIT_DAYS)]
    newest = len(reviews) - math.ceil(len(reviews) * 0.2)
    for review in reviews[newest:]:  # all of the newest remembered: the defaults predict them better
        review["correct"] = True
    study(api, reviews, 150)

    assert fitting.post().status_code == 202
    assert fitting.drain() == 1
    kept = fitting.scheduler()
    assert kept["source"] == "default" and kept["version"] == 0
    assert kept["parameters"] == list(DEFAULT_PARAMETERS)
    assert kept["last_fit"]["adopted"] is False and kept["last_fit"]["reason"] == "log_loss_not_lower"
    assert kept["fit_requested_at"] is None
    assert fitting.recomputes.sent == []


def set_reviews(api, count):
    api.dynamodb.put_item(TableName=api.names["aggregates"], Item=to_item(
        {"learner": OWNER, "item": TOTALS, "reviews": count}))


def scheduler_item(api):
    found = api.dynamodb.get_item(TableName=api.names["memories"], ConsistentRead=True,
                                  Key={"scope": {"S": OWNER}, "word_id": {"N": str(SCHEDULER_WORD_ID)}})
    return from_item(found["Item"]) if "Item" in found else None


class Answers:
    """A fitter answering fitLearner's shape at once, recording what it was asked; ``during`` runs
    while it "fits"."""

    def __init__(self, adopted=True, during=lambda: None):
        self.asked, self.adopted, self.during = [], adopted, during

    def fit(self, reviews, parameters):
        self.asked.append((reviews, list(parameters)))
        self.during()
        return {"candidate": [round(p * 1.1, 4) for p in DEFAULT_PARAMETERS[:19]] + [0.2, 0.3],
                "adopted": self.adopted,
                "reason": "better_on_recent_reviews" if self.adopted else "log_loss_not_lower",
                "evaluation": {"reviews": 200, "log_loss": 0.4, "rmse_bins": 0.03, "default_log_loss": 0.45,
                               "default_rmse_bins": 0.05}, "reviews_used": 1000}


@pytest.fixture
def quick(api, tmp_path, monkeypatch):
    monkeypatch.setattr(app_module, "_fitting_worker", None)
    return Fitting(api, tmp_path / "fit-queue", Answers())


def test_999_reviews_are_a_409_saying_how_many_are_needed_and_1000_are_queued(api, quick):
    set_reviews(api, 999)
    refused = quick.post()
    assert refused.status_code == 409 and refused.json_body["code"] == "too_few_reviews"
    assert "at least 1000 reviews" in refused.json_body["error"] and "1 more" in refused.json_body["error"]
    assert quick.messages() == [] and scheduler_item(api) is None  # nothing written, nothing sent

    set_reviews(api, 1000)
    assert quick.post().status_code == 202
    assert quick.messages() == [{"owner": OWNER, "requested_at": stamp(NOW), "counted": 1000}]


def test_a_request_pending_too_long_is_replaced_by_a_new_one(api, quick):
    set_reviews(api, 1000)
    quick.post()
    quick.clock.now = NOW + timedelta(seconds=FIT_PENDING_SECONDS - 1)
    assert quick.post().json_body["requested_at"] == stamp(NOW)  # still pending: the same one
    quick.clock.now = NOW + timedelta(seconds=FIT_PENDING_SECONDS + 1)
    assert quick.post().json_body["requested_at"] == stamp(quick.clock.now)
    assert [message["requested_at"] for message in quick.messages()] == [stamp(NOW), stamp(quick.clock.now)]
    assert quick.drain() == 2  # the first is no longer pending: only the second fits
    assert len(app_module._fitting_worker._fitter.asked) == 1


def test_a_redelivered_message_writes_nothing_more(api, quick):
    set_reviews(api, 1000)
    quick.post()
    message = quick.messages()[0]
    quick.drain()
    after_first = scheduler_item(api)
    assert after_first["version"] == 1 and quick.recomputes.sent == [(OWNER, 1)]

    quick.queue.send(message)  # SQS hands it again
    assert quick.drain() == 1
    # the recompute, not yet done, is sent again (the first send may have failed); harmless
    assert scheduler_item(api) == after_first and quick.recomputes.sent == [(OWNER, 1), (OWNER, 1)]
    recompute(app_module.services().store, OWNER)
    quick.queue.send(message)
    assert quick.drain() == 1
    assert quick.recomputes.sent == [(OWNER, 1), (OWNER, 1)]  # done: nothing more
    assert len(app_module._fitting_worker._fitter.asked) == 1  # never fitted again


def test_a_message_of_a_learner_erased_meanwhile_writes_nothing(api, quick):
    set_reviews(api, 1000)
    quick.post()
    api.dynamodb.delete_item(TableName=api.names["memories"],  # what the purge of their partition does
                             Key={"scope": {"S": OWNER}, "word_id": {"N": str(SCHEDULER_WORD_ID)}})
    assert quick.drain() == 1
    assert scheduler_item(api) is None and quick.recomputes.sent == []


def test_a_learner_erased_during_the_fit_gets_nothing_written(api, quick):
    set_reviews(api, 1000)
    quick.post()

    def erase():
        with running_as(None):  # the purge's call, not the worker's
            api.dynamodb.delete_item(TableName=api.names["memories"],
                                     Key={"scope": {"S": OWNER}, "word_id": {"N": str(SCHEDULER_WORD_ID)}})

    app_module._fitting_worker._fitter.during = erase
    assert quick.drain() == 1
    assert scheduler_item(api) is None and quick.recomputes.sent == []


def test_a_fit_whose_scheduler_changed_meanwhile_is_not_written_and_the_request_ends(api, quick):
    set_reviews(api, 1000)
    quick.post()

    def change_retention():
        response = api.http._http.put("/api/me/scheduler", headers={"Content-Type": "application/json"},
                                      body=json.dumps({"desired_retention": 0.85}))
        assert response.status_code == 200

    app_module._fitting_worker._fitter.during = change_retention
    assert quick.drain() == 1
    stored = quick.scheduler()
    assert (stored["version"], stored["source"], stored["desired_retention"]) == (1, "default", 0.85)
    assert stored["parameters"] == list(DEFAULT_PARAMETERS) and stored["last_fit"] is None
    assert stored["fit_requested_at"] is None  # ended: the learner may ask again
    assert quick.recomputes.sent == [(OWNER, 1)]  # the retention's recompute only
    assert quick.post().status_code == 202 and len(quick.messages()) == 1


def test_make_run_fits_within_seconds_of_the_request(local_server):
    """chalice local and the poller of `make run`: the reviews counted by the consumer from the
    streams, the request queued on the local queue, the same handler run on it by the poller."""
    import time

    import requests

    def url(path):
        return local_server.url(path)

    sessions = [requests.post(url("/api/study-sessions"), timeout=10, json={
        "group_id": group, "study_activity_id": 1, "created_at": "2020-01-01T08:00:00Z"}).json()["id"]
                for group in (1, 2)]
    answers = [(word, day) for day in range(50) for word in range(1, 21)]  # 20 words a day, 50 days
    for start in range(0, len(answers), 100):
        for session, group in zip(sessions, (1, 2), strict=True):
            round_ = [{"word_id": word, "is_correct": (word + day) % 4 != 0,
                       "reviewed_at": stamp(datetime(2020, 1, 1, 9, tzinfo=UTC) + day * DAY)}
                      for word, day in answers[start:start + 100] if (word - 1) // 10 + 1 == group]
            answer = requests.post(url(f"/study_sessions/{session}/review"), json={"reviews": round_},
                                   timeout=30)
            assert answer.status_code == 201, answer.text

    deadline = time.monotonic() + 60
    while (asked := requests.post(url("/api/me/scheduler/fit"), timeout=10)).status_code == 409:
        assert time.monotonic() < deadline, asked.text  # the consumer has not counted 1,000 yet
        time.sleep(0.2)
    assert asked.status_code == 202, asked.text
    requested = asked.json()["requested_at"]
    while (scheduler := requests.get(url("/api/me/scheduler"), timeout=10).json())["fit_requested_at"]:
        assert time.monotonic() < deadline, scheduler
        time.sleep(0.2)
    assert scheduler["last_fit"]["at"] >= requested
    assert scheduler["last_fit"]["reason"] in ("better_on_recent_reviews", "log_loss_not_lower",
                                               "rmse_bins_higher", "no_scored_reviews")


def test_the_nightly_schedule_queues_each_learner_due_once(api, quick):
    from devtools.stream_poller import scheduled_event

    def nightly():
        return app_module.fit_learners_due(scheduled_event(), Context())["queued"]

    other = "a-learner#0"
    api.dynamodb.put_item(TableName=api.names["aggregates"], Item=to_item(
        {"learner": other, "item": TOTALS, "reviews": 999}))
    set_reviews(api, 1000)
    assert nightly() == 1  # 999 reviews: not due
    assert nightly() == 0  # pending: not queued again
    assert [message["owner"] for message in quick.messages()] == [OWNER]
    quick.drain()  # its last fit used 1,000 reviews
    set_reviews(api, 1499)
    assert nightly() == 0  # 499 more: not due yet
    set_reviews(api, 1500)
    assert nightly() == 1 and quick.messages()[0]["owner"] == OWNER


def nightly():
    from devtools.stream_poller import scheduled_event

    return app_module.fit_learners_due(scheduled_event(), Context())["queued"]


def memory_partition(api, scope):
    pages = api.dynamodb.get_paginator("query").paginate(
        TableName=api.names["memories"], ConsistentRead=True, KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "scope"}, ExpressionAttributeValues={":s": {"S": scope}})
    return [from_item(item) for page in pages for item in page["Items"]]


@pytest.fixture
def resets(api, quick):
    api.restart(resets=True, clock=quick.clock)
    app_module._services = app_module._services._replace(fit_queue=quick.queue,
                                                          recompute_queue=quick.recomputes)
    app_module._scheduler = None
    set_reviews(api, 1200)
    assert api.post({}, path="/api/study-sessions/reset").status_code == 200  # OWNER is the old history now
    return quick


def test_the_nightly_run_during_the_purge_of_a_reset_history_writes_nothing_into_it(api, resets, monkeypatch):
    purger, ran = HistoryPurger(api.dynamodb, api.names, grace_seconds=0), []
    delete = purger._delete

    def nightly_midway(table, keys):
        # the old history's memory partition deleted, its totals not yet: the nightly run reads them
        if table == "study_sessions" and not ran:
            ran.append(nightly())
        return delete(table, keys)

    monkeypatch.setattr(purger, "_delete", nightly_midway)
    purger.purge()

    assert ran == [0] and resets.messages() == []
    assert memory_partition(api, OWNER) == []


def test_a_nightly_scan_read_before_the_purge_queues_nothing_of_the_purged_history(api, resets, monkeypatch):
    store = app_module.services().store
    scanned = store.aggregates.totals_with_reviews(1000)  # the Scan, minutes before the learner's turn
    assert [totals["learner"] for totals in scanned] == [OWNER]
    HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge()
    monkeypatch.setattr(type(store.aggregates), "totals_with_reviews", lambda self, least: scanned)

    assert nightly() == 0 and resets.messages() == []
    assert memory_partition(api, OWNER) == []


class Capped(Answers):
    """fitLearner given the newest MAX_REVIEWS of a learner who has more."""

    def fit(self, reviews, parameters):
        return {**super().fit(reviews, parameters), "reviews_used": MAX_REVIEWS}


def test_a_learner_with_more_reviews_than_a_fit_reads_is_refitted_after_500_more_not_every_night(api, quick):
    app_module._fitting_worker._fitter = Capped(adopted=False)
    set_reviews(api, MAX_REVIEWS + 10_000)
    assert nightly() == 1 and quick.drain() == 1
    assert quick.scheduler()["next_fit_after"] == MAX_REVIEWS + 10_500

    assert nightly() == 0  # the next night, no review more
    set_reviews(api, MAX_REVIEWS + 10_500)
    assert nightly() == 1


class Flaky:
    """A queue whose first send fails (SQS throttled, the connection reset), then works."""

    def __init__(self, queue):
        self.queue, self.failed = queue, False

    def send(self, *message):
        if not self.failed:
            self.failed = True
            raise ConnectionError("SendMessage: connection reset")
        self.queue.send(*message)


def test_a_fit_request_whose_send_failed_is_queued_when_the_post_is_resent(api, quick):
    set_reviews(api, 1000)
    app_module._services = app_module._services._replace(fit_queue=Flaky(quick.queue))
    app_module._scheduler = None

    assert quick.post().status_code == 500  # marked pending, then the send failed
    again = quick.post()
    assert again.status_code == 202 and quick.messages() == [
        {"owner": OWNER, "requested_at": again.json_body["requested_at"], "counted": 1000}]
    assert quick.post().status_code == 202 and len(quick.messages()) == 1  # known to be queued: not again
    assert quick.drain() == 1 and quick.scheduler()["source"] == "fitted"


def test_an_adoption_whose_recompute_send_failed_sends_it_when_its_message_is_handed_again(api, quick):
    set_reviews(api, 1000)
    recomputes = quick.recomputes
    app_module._fitting_worker._recompute_queue = Flaky(recomputes)
    assert quick.post().status_code == 202

    with pytest.raises(ConnectionError):
        quick.drain()  # adopted and written, then the recompute's send failed: the message fails
    assert scheduler_item(api)["version"] == 1 and recomputes.sent == []
    assert quick.drain() == 1  # the queue hands it again
    assert recomputes.sent == [(OWNER, 1)] and len(app_module._fitting_worker._fitter.asked) == 1


class ScoredNothing(Answers):
    """fitLearner when no held-out review comes a day after its word's previous one."""

    def fit(self, reviews, parameters):
        self.asked.append((reviews, list(parameters)))
        figures = dict.fromkeys(("log_loss", "rmse_bins", "default_log_loss", "default_rmse_bins",
                                 "predicted_recall", "recalled"))
        return {"candidate": list(parameters), "adopted": False, "reason": "no_scored_reviews",
                "evaluation": {**figures, "reviews": 0}, "reviews_used": 1500}


def test_a_fit_that_scored_nothing_keeps_the_evaluation_of_the_parameters_in_use(api, quick):
    set_reviews(api, 1000)
    assert quick.post().status_code == 202 and quick.drain() == 1
    fitted = quick.scheduler()
    assert fitted["evaluation"]["log_loss"] == 0.4 and fitted["next_fit_after"] == 1500

    app_module._fitting_worker._fitter = ScoredNothing()
    set_reviews(api, 1500)
    quick.clock.now += timedelta(days=1)
    assert quick.post().status_code == 202 and quick.drain() == 1

    after = quick.scheduler()
    assert after["last_fit"]["reason"] == "no_scored_reviews" and after["next_fit_after"] == 2000
    assert after["evaluation"] == fitted["evaluation"] and after["summary"] == fitted["summary"]


def test_a_fit_asked_for_before_a_reset_and_handled_after_it_writes_nothing_into_the_old_history(api, quick):
    api.restart(resets=True, clock=quick.clock)
    app_module._services = app_module._services._replace(fit_queue=quick.queue,
                                                          recompute_queue=quick.recomputes)
    app_module._scheduler = None
    quick.worker(Answers())
    set_reviews(api, 1200)
    assert quick.post().status_code == 202  # OWNER, the current history
    assert api.post({}, path="/api/study-sessions/reset").status_code == 200  # a new one
    before = scheduler_item(api)

    assert quick.drain() == 1
    assert scheduler_item(api) == before and quick.recomputes.sent == []
    assert app_module._fitting_worker._fitter.asked == []  # not even fitted


def test_a_recompute_message_of_a_history_reset_since_is_passed_over(api, resets):
    from chalicelib.streams.recompute import handle

    services = app_module.services()
    event = {"Records": [{"body": json.dumps({"owner": OWNER, "version": 1})}]}
    assert handle(services.store, event, services.histories.is_current) == {"recomputed": []}
    current = {"Records": [{"body": json.dumps({"owner": "implicit#1", "version": 1})}]}
    assert handle(services.store, current, services.histories.is_current)["recomputed"] == [
        {"version": 0, "written": 0, "current": 0}]
