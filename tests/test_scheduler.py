"""The learner's scheduler (issue #39): its FSRS parameters and desired retention, stored as one
item of their memories partition, served by GET/PUT /api/me/scheduler, and used exactly by every
review, due-words page and the audit; a change recomputes every memory off the request path, and
a review racing the change never mixes old and new settings. On moto and DynamoDB Local."""
import threading
from datetime import UTC, datetime, timedelta

import pytest

import app as app_module
from chalicelib.core import scheduling
from chalicelib.core.scheduling import DEFAULT_PARAMETERS, SchedulerSettings
from chalicelib.storage.dynamo import from_item
from chalicelib.storage.schema import SCHEDULER_WORD_ID
from chalicelib.streams.adoption import adopt
from chalicelib.streams.audit import memory_differences, memory_findings, rebuild_memories
from chalicelib.streams.purge import HistoryPurger
from chalicelib.streams.recompute import recompute
from chalicelib.study.scheduler import LearnerScheduler
from tests.helpers import DynamoDBCalls, assert_error

T0 = datetime(2026, 11, 1, 9, 0, 0, tzinfo=UTC)
OWNER = "implicit#0"
FITTED = tuple(round(number * 1.1, 4) for number in DEFAULT_PARAMETERS[:19]) + (0.2, 0.3)


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


DAYS = [stamp(T0 + timedelta(days=d)) for d in (0, 1, 4, 15, 40)]


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class Queue:
    """The recompute hook, recording what it was sent instead of recomputing."""

    def __init__(self):
        self.sent = []

    def send(self, owner, version):
        self.sent.append((owner, version))


@pytest.fixture
def queue(api):
    api.restart(clock=Clock(T0 + timedelta(days=60)))
    queue = Queue()
    app_module._services = app_module._services._replace(recompute_queue=queue)
    app_module._scheduler = None
    return queue


@pytest.fixture
def session(api, queue):
    response = api.post({"group_id": 1, "study_activity_id": 1, "created_at": stamp(T0)})
    assert response.status_code == 201
    return response.json_body["id"]


def store():
    return app_module.services().store


def review(api, session_id, word_id, correct, at):
    response = api.post({"word_id": word_id, "correct": correct, "reviewed_at": at},
                        path=f"/api/study-sessions/{session_id}/review")
    assert response.status_code == 201, response.body
    return response.json_body["memory"]


def put(api, body):
    raw = body if isinstance(body, (str, bytes)) else __import__("json").dumps(body)
    return api.http.put("/api/me/scheduler", headers={"Content-Type": "application/json"}, body=raw)


def item(api, word_id, scope=OWNER):
    found = api.dynamodb.get_item(TableName=api.names["memories"], ConsistentRead=True,
                                  Key={"scope": {"S": scope}, "word_id": {"N": str(word_id)}}).get("Item")
    return from_item(found) if found else None


def reference(answers, parameters=DEFAULT_PARAMETERS, retention=0.9):
    """What each review's 201 shows of memory, by `fsrs` itself with these settings."""
    import fsrs

    scheduler = fsrs.Scheduler(parameters=parameters, desired_retention=retention, enable_fuzzing=False)
    card, shown = fsrs.Card(card_id=1), []
    for number, (at, correct) in enumerate(answers):
        moment = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        before = scheduler.get_card_retrievability(card, moment) if number else None
        card, _ = scheduler.review_card(card, fsrs.Rating.Good if correct else fsrs.Rating.Again, moment)
        shown.append({"state": card.state.name.lower(), "stability": card.stability,
                      "difficulty": card.difficulty, "due": stamp(card.due), "retrievability": before})
    return shown


def stored_memory(api, word_id):
    stored = item(api, word_id)
    return shown(stored), stored.get("version", 0)


def shown(memory):
    return {name: memory[name] for name in ("state", "stability", "difficulty", "due")}


def test_the_defaults_are_fsrs_s_own():
    from fsrs.scheduler import DEFAULT_PARAMETERS as FSRS_DEFAULTS

    assert DEFAULT_PARAMETERS == tuple(FSRS_DEFAULTS) and len(DEFAULT_PARAMETERS) == 21
    assert scheduling.DEFAULT_SETTINGS == SchedulerSettings(DEFAULT_PARAMETERS, 0.9, 0)
    assert scheduling.settings_of({}) == scheduling.DEFAULT_SETTINGS


def test_fsrs_s_scheduler_is_built_once_per_distinct_settings():
    scheduling._scheduler.cache_clear()
    for retention in (0.8, 0.8, 0.85, 0.8):
        settings = SchedulerSettings(desired_retention=retention)
        scheduling.retrievability(None, T0, settings)
        scheduling.replay(1, [scheduling.Answer(f"{DAYS[0]}#a", True)], settings)
    assert scheduling._scheduler.cache_info().currsize == 3  # 0.8, 0.85, and the defaults' (a card's fsrs)


def test_a_learner_without_a_scheduler_gets_the_defaults_and_nothing_is_written(api, queue):
    response = api.get("/api/me/scheduler")

    assert response.status_code == 200
    assert response.json_body == {
        "parameters": list(DEFAULT_PARAMETERS), "source": "default", "desired_retention": 0.9, "version": 0,
        "fitted_at": None, "reviews_used": None, "evaluation": None, "summary": None, "next_fit_after": 1000,
        "fit_requested_at": None, "last_fit": None}
    assert item(api, SCHEDULER_WORD_ID) is None


@pytest.mark.parametrize("retention", [0.7, 0.70, 0.85, 0.97])
def test_a_retention_from_0_70_to_0_97_is_the_next_version_and_its_recompute_is_sent(api, queue, retention):
    response = put(api, {"desired_retention": retention})

    assert response.status_code == 200, response.body
    assert response.json_body["desired_retention"] == retention and response.json_body["version"] == 1
    assert response.json_body["parameters"] == list(DEFAULT_PARAMETERS)
    assert api.get("/api/me/scheduler").json_body == response.json_body
    stored = item(api, SCHEDULER_WORD_ID)
    assert (stored["desired_retention"], stored["version"], stored["source"]) == (retention, 1, "default")
    assert queue.sent == [(OWNER, 1)]  # the recompute is handed over, not run in the request


@pytest.mark.parametrize("body, message", [
    ({"desired_retention": 0.69}, "desired_retention must be a number from 0.7 to 0.97"),
    ({"desired_retention": 0.98}, "desired_retention must be a number from 0.7 to 0.97"),
    ({"desired_retention": 0.6999999}, "desired_retention must be a number from 0.7 to 0.97"),
    ({"desired_retention": 1}, "desired_retention must be a number from 0.7 to 0.97"),
    ({"desired_retention": "0.8"}, "desired_retention must be a number from 0.7 to 0.97"),
    ({"desired_retention": True}, "desired_retention must be a number from 0.7 to 0.97"),
    ({"desired_retention": None}, "desired_retention must be a number from 0.7 to 0.97"),
    ({"desired_retention": 0.8, "parameters": [0.1] * 21}, "Unknown field(s): parameters"),
    ({"desired_retention": 0.8, "version": 3}, "Unknown field(s): version"),
    ({}, "Missing required field(s): desired_retention"),
    ([0.8], "The body must be a JSON object"),
    (0.8, "The body must be a JSON object"),
    ("", "The body is not valid JSON"),
    ("{\"desired_retention\": 0.8, \"desired_retention\": 0.9}", "appears more than once"),
    ("{\"desired_retention\": NaN}", "The body is not valid JSON"),
])
def test_anything_else_is_a_400_naming_it_and_writes_nothing(api, queue, body, message):
    response = put(api, body)

    assert_error(response, 400, "validation_error", message)
    assert item(api, SCHEDULER_WORD_ID) is None and queue.sent == []


def test_a_body_that_is_not_json_is_415(api, queue):
    response = api.http.put("/api/me/scheduler", headers={"Content-Type": "text/plain"}, body="0.8")
    assert response.status_code == 415 and item(api, SCHEDULER_WORD_ID) is None


def test_the_same_retention_again_writes_nothing_and_sends_the_recompute_again_only_while_pending(api, queue):
    assert put(api, {"desired_retention": 0.9}).json_body["version"] == 0  # the default's own
    assert put(api, {"desired_retention": 0.8}).json_body["version"] == 1

    with DynamoDBCalls(api.dynamodb) as calls:
        again = put(api, {"desired_retention": 0.8})

    # a resend: the first send may have failed after the change was stored (its 500)
    assert again.json_body["version"] == 1 and calls.operations == ["GetItem"]
    assert queue.sent == [(OWNER, 1), (OWNER, 1)]

    recompute(store(), OWNER)
    with DynamoDBCalls(api.dynamodb) as calls:
        assert put(api, {"desired_retention": 0.8}).json_body["version"] == 1
    assert calls.operations == ["GetItem"] and queue.sent == [(OWNER, 1), (OWNER, 1)]


def test_a_change_whose_recompute_send_failed_is_recomputed_when_the_put_is_resent(api, session, queue):
    review(api, session, 3, True, DAYS[0])
    sent = queue.send

    def fail(owner, version):
        raise ConnectionError("SendMessage: connection reset")

    queue.send = fail
    assert put(api, {"desired_retention": 0.8}).status_code == 500  # stored; the send failed
    queue.send = sent
    assert put(api, {"desired_retention": 0.8}).status_code == 200  # the client sends it again

    assert queue.sent == [(OWNER, 1)]
    recompute(store(), OWNER)
    assert stored_memory(api, 3) == (shown(reference([(DAYS[0], True)], retention=0.8)[-1]), 1)


def test_a_review_after_a_change_uses_the_new_retention_and_replays_a_memory_of_the_old(api, session):
    first = review(api, session, 3, True, DAYS[0])
    assert first == reference([(DAYS[0], True)])[0]
    assert put(api, {"desired_retention": 0.8}).status_code == 200
    assert stored_memory(api, 3)[1] == 0  # not recomputed in the request

    second = review(api, session, 3, True, DAYS[2])
    new_word = review(api, session, 4, False, DAYS[2])

    answers = [(DAYS[0], True), (DAYS[2], True)]
    assert second == reference(answers, retention=0.8)[-1] != reference(answers)[-1]
    assert new_word == reference([(DAYS[2], False)], retention=0.8)[0]
    assert stored_memory(api, 3) == (shown(second), 1) and stored_memory(api, 4) == (shown(new_word), 1)
    assert memory_differences(api.dynamodb, api.names) == []


def test_the_recompute_brings_every_memory_to_the_new_settings_and_a_second_run_writes_nothing(api, session):
    answers = {word: [(DAYS[0], True), (DAYS[1], True), (DAYS[3], word != 1)] for word in (1, 2, 3)}
    for word, of_word in answers.items():
        for at, correct in of_word:
            review(api, session, word, correct, at)
    assert put(api, {"desired_retention": 0.75}).status_code == 200
    findings = memory_findings(api.dynamodb, api.names)
    assert findings.differences == [] and findings.behind == [(OWNER, 1), (OWNER, 2), (OWNER, 3)]
    due_before = item(api, 2)["due"]

    done = recompute(store(), OWNER)

    assert (done.version, done.written, done.current) == (1, 3, 0)
    for word, of_word in answers.items():
        assert stored_memory(api, word) == (shown(reference(of_word, retention=0.75)[-1]), 1)
    assert memory_findings(api.dynamodb, api.names) == ([], [], [])
    assert recompute(store(), OWNER) == (1, 0, 3)  # all current: nothing written
    assert item(api, 2)["due"] > due_before  # a lower retention: due later, once recomputed


def test_a_recompute_stopped_half_way_is_finished_by_the_next_run(api, session, monkeypatch):
    for word in (1, 2, 3, 4):
        review(api, session, word, True, DAYS[0])
        review(api, session, word, word != 2, DAYS[2])
    put(api, {"desired_retention": 0.8})
    rewrite, calls = store().memories.rewrite, []

    def stopping(*args):
        calls.append(args[1])
        if len(calls) == 3:
            raise RuntimeError("injected: the recompute stopped")
        return rewrite(*args)

    monkeypatch.setattr(store().memories, "rewrite", stopping)
    with pytest.raises(RuntimeError):
        recompute(store(), OWNER)
    monkeypatch.setattr(store().memories, "rewrite", rewrite)
    assert len(memory_findings(api.dynamodb, api.names).behind) == 2

    assert recompute(store(), OWNER) == (1, 2, 2)
    assert memory_findings(api.dynamodb, api.names).behind == []
    assert memory_differences(api.dynamodb, api.names) == []


def test_a_warm_function_that_kept_the_old_scheduler_is_refused_and_computes_with_the_new(api, session):
    review(api, session, 3, True, DAYS[0])  # this function keeps the word and the scheduler of version 0
    another_function = LearnerScheduler(store(), lambda learner: OWNER, Queue())
    assert another_function.change("implicit", {"desired_retention": 0.8})["version"] == 1
    recompute(store(), OWNER)

    with DynamoDBCalls(api.dynamodb) as calls:
        memory = review(api, session, 3, False, DAYS[3])

    # the write computed with the kept version 0 is refused (the memory is of version 1), the
    # scheduler and memory read again, and the review computed with the new settings
    assert calls.operations == ["TransactWriteItems", "BatchGetItem", "TransactWriteItems"]
    assert memory == reference([(DAYS[0], True), (DAYS[3], False)], retention=0.8)[-1]
    assert stored_memory(api, 3) == (shown(memory), 1)


def test_a_review_whose_memory_is_recomputed_between_its_read_and_its_write_computes_again(
        api, session, monkeypatch):
    """The race of a review with the switch, made deterministic: the review read the scheduler
    and the memory of version 0; before its write lands, the change and the recompute do."""
    review(api, session, 3, True, DAYS[0])
    app_module.services().reviews._recent.__init__()  # a cold function: it reads first
    record, raced = store().reviews.record_reviews, []

    def racing(reviews, memories, stored):
        if not raced:
            raced.append([memory.fields.get("version", 0) for memory in memories])
            app_module.services().scheduler().change("implicit", {"desired_retention": 0.8})
            assert recompute(store(), OWNER).written == 1
        return record(reviews, memories, stored)

    monkeypatch.setattr(store().reviews, "record_reviews", racing)
    memory = review(api, session, 3, True, DAYS[2])

    assert raced == [[0]]  # first computed with version 0: refused, never stored
    assert memory == reference([(DAYS[0], True), (DAYS[2], True)], retention=0.8)[-1]
    assert stored_memory(api, 3) == (shown(memory), 1)
    assert memory_differences(api.dynamodb, api.names) == []


def test_a_review_that_read_the_scheduler_before_a_change_its_memory_has_reads_it_again(
        api, session, monkeypatch):
    """A BatchGetItem is no snapshot: the scheduler item read before a change, the memory after
    the change's recompute. Computed with the old settings, the write would pass (the memory is
    unchanged since the read) and undo the recompute."""
    review(api, session, 3, True, DAYS[0])
    app_module.services().scheduler().change("implicit", {"desired_retention": 0.8})
    assert recompute(store(), OWNER).written == 1
    app_module.services().reviews._recent.__init__()  # a cold function: it reads first
    read = store().reviews.session_and_memories

    def before_the_change(*args, **kwargs):
        session_item, memories, _, reviews = read(*args, **kwargs)
        return session_item, memories, {}, reviews  # the scheduler as it was: no item, version 0

    monkeypatch.setattr(store().reviews, "session_and_memories", before_the_change)
    memory = review(api, session, 3, False, DAYS[2])

    assert memory == reference([(DAYS[0], True), (DAYS[2], False)], retention=0.8)[-1]
    assert stored_memory(api, 3) == (shown(memory), 1)
    assert memory_differences(api.dynamodb, api.names) == []


def fit(adopted=True, candidate=FITTED, **extra):
    evaluation = {"reviews": 180, "held_out_reviews": 200, "log_loss": 0.41, "rmse_bins": 0.03,
                  "current_log_loss": 0.44, "current_rmse_bins": 0.05, "default_log_loss": 0.44,
                  "default_rmse_bins": 0.05, "predicted_recall": 0.8712, "current_predicted_recall": 0.9,
                  "recalled": 0.8461}
    return {"candidate": list(candidate), "adopted": adopted,
            "reason": "better_on_recent_reviews" if adopted else "log_loss_not_lower",
            "evaluation": evaluation, "reviews_used": 1200, "training_items": 700, **extra}


def test_an_adopted_fit_is_the_next_version_its_memories_recomputed_with_its_parameters(api, session, queue):
    review(api, session, 3, True, DAYS[0])
    review(api, session, 3, False, DAYS[2])
    put(api, {"desired_retention": 0.85})

    version = adopt(store(), OWNER, fit(), fitted_version=1, now=T0 + timedelta(days=60), queue=queue,
                    counted=1300)

    assert version == 2 and queue.sent == [(OWNER, 1), (OWNER, 2)]
    body = api.get("/api/me/scheduler").json_body
    assert body == {"parameters": list(FITTED), "source": "fitted", "desired_retention": 0.85, "version": 2,
                    "fitted_at": "2026-12-31T09:00:00Z", "reviews_used": 1200,
                    "evaluation": {"log_loss": 0.41, "rmse_bins": 0.03, "default_log_loss": 0.44,
                                   "default_rmse_bins": 0.05, "reviews": 180},
                    "summary": "predicted 87 % recall, remembered 85 %",
                    "next_fit_after": 1800, "fit_requested_at": None,  # 500 more than counted when asked
                    "last_fit": {"at": "2026-12-31T09:00:00Z", "adopted": True,
                                 "reason": "better_on_recent_reviews", "reviews": 1200, "counted": 1300}}
    assert item(api, SCHEDULER_WORD_ID)["recompute_version"] == 2  # sent, not yet done
    recompute(store(), OWNER)
    assert "recompute_version" not in item(api, SCHEDULER_WORD_ID)
    answers = [(DAYS[0], True), (DAYS[2], False)]
    assert stored_memory(api, 3) == (shown(reference(answers, FITTED, 0.85)[-1]), 2)
    assert review(api, session, 3, True, DAYS[4]) == reference(answers + [(DAYS[4], True)], FITTED, 0.85)[-1]
    assert memory_differences(api.dynamodb, api.names) == []  # the audit replays with the learner's own


def test_a_fit_kept_writes_its_figures_only_and_a_fit_of_an_older_version_writes_nothing(api, queue):
    adopt(store(), OWNER, fit(), fitted_version=0, now=T0)
    kept = adopt(store(), OWNER, fit(adopted=False), fitted_version=1, now=T0 + timedelta(days=30))

    assert kept == 1
    body = api.get("/api/me/scheduler").json_body
    assert (body["version"], body["parameters"], body["fitted_at"]) == (1, list(FITTED), stamp(T0))
    assert body["evaluation"]["log_loss"] == 0.44  # the parameters in use, as the kept fit scored them
    assert body["summary"] == "predicted 90 % recall, remembered 85 %"
    assert item(api, SCHEDULER_WORD_ID)["last_fit"] == {
        "at": stamp(T0 + timedelta(days=30)), "adopted": False, "reason": "log_loss_not_lower",
        "reviews": 1200, "counted": 1200}
    before = item(api, SCHEDULER_WORD_ID)
    assert adopt(store(), OWNER, fit(), fitted_version=0, now=T0) is None  # fitted against version 0
    assert item(api, SCHEDULER_WORD_ID) == before
    too_few = {"adopted": False, "reason": "too_few_reviews", "needed": 1000, "reviews_used": 12}
    assert adopt(store(), OWNER, too_few, fitted_version=1, now=T0 + timedelta(days=31)) == 1
    assert item(api, SCHEDULER_WORD_ID)["evaluation"] == before["evaluation"]
    with pytest.raises(ValueError):
        adopt(store(), OWNER, fit(candidate=[0.1] * 20), fitted_version=1, now=T0)


def test_a_reset_starts_from_the_defaults(api, queue):
    api.restart(resets=True)
    app_module._services = app_module._services._replace(recompute_queue=queue)
    assert put(api, {"desired_retention": 0.8}).status_code == 200

    assert api.post({}, path="/api/study-sessions/reset").status_code == 200

    body = api.get("/api/me/scheduler").json_body
    assert (body["desired_retention"], body["version"], body["source"]) == (0.9, 0, "default")
    assert item(api, SCHEDULER_WORD_ID, scope="implicit#0")["desired_retention"] == 0.8  # until purged

    assert HistoryPurger(api.dynamodb, api.names, grace_seconds=0).purge() >= 1

    assert item(api, SCHEDULER_WORD_ID, scope="implicit#0") is None


def test_the_scheduler_item_is_no_word_of_the_due_words_the_dashboard_or_the_export(api, session):
    review(api, session, 3, True, DAYS[0])
    put(api, {"desired_retention": 0.8})

    due = api.get("/api/groups/1/due-words?limit=100").json_body["items"]
    export = api.get("/api/me/export").json_body

    assert sorted(word["id"] for word in due) == list(range(1, 11))
    assert api.get("/dashboard/stats").json_body["words_due"] == 1
    assert [memory["word_id"] for memory in export["memories"]] == [3]
    assert [r["word_id"] for r in export["reviews"]] == [3]
    assert export["scheduler"] == [{"epoch": 0, "desired_retention": 0.8, "version": 1, "source": "default",
                                    "parameters": list(DEFAULT_PARAMETERS)}]


def test_the_due_words_retrievability_is_the_learner_s_settings(api, session):
    review(api, session, 3, True, DAYS[0])
    adopt(store(), OWNER, fit(), fitted_version=0, now=T0)
    recompute(store(), OWNER)

    word = next(w for w in api.get("/api/groups/1/due-words").json_body["items"] if w["id"] == 3)

    stored = item(api, 3)
    settings = SchedulerSettings(FITTED, 0.9, 1)
    now = T0 + timedelta(days=60)
    assert word["retrievability"] == scheduling.retrievability(scheduling.card_fields(stored), now, settings)
    assert word["retrievability"] != scheduling.retrievability(scheduling.card_fields(stored), now)


def test_the_rebuild_replays_memories_behind_with_the_current_settings(api, session):
    review(api, session, 3, True, DAYS[0])
    review(api, session, 3, True, DAYS[2])
    put(api, {"desired_retention": 0.8})
    assert memory_findings(api.dynamodb, api.names).behind == [(OWNER, 3)]

    assert rebuild_memories(api.dynamodb, api.names) == 1

    assert memory_findings(api.dynamodb, api.names).behind == []
    assert stored_memory(api, 3)[1] == 1 and memory_differences(api.dynamodb, api.names) == []


@pytest.mark.parametrize("dynamodb", ["dynamodb_local"], indirect=True)
def test_parallel_reviews_racing_changes_end_exact_on_dynamodb_local(api, session):
    """Four threads review five words while the retention changes three times, each change
    recomputed at once: at the end every memory is of the last version and equals the replay of
    its reviews with the last settings, and no 201 failed."""
    errors = []
    times = [stamp(T0 + timedelta(days=day, minutes=minute)) for day in range(12) for minute in (0, 3)]
    reviews = app_module.services().reviews  # called as the route does, from several threads

    def reviewer(word):
        for number, at in enumerate(times):
            try:
                reviews.review("implicit", session, None, {"word_id": word, "correct": number % 3 != 2,
                                                           "reviewed_at": at}, None)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))

    threads = [threading.Thread(target=reviewer, args=(word,)) for word in (1, 2, 3, 4, 5)]
    for thread in threads:
        thread.start()
    for retention in (0.8, 0.95, 0.75):
        app_module.services().scheduler().change("implicit", {"desired_retention": retention})
        recompute(store(), OWNER)
    for thread in threads:
        thread.join()
    recompute(store(), OWNER)  # what a review wrote with a kept older version meanwhile

    assert errors == []
    findings = memory_findings(api.dynamodb, api.names)
    assert findings.differences == [] and findings.behind == []
    assert {item(api, word)["version"] for word in (1, 2, 3, 4, 5)} == {3}
