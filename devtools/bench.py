"""`make bench`: what a create costs, beside the floor, on DynamoDB Local started here.

    python -m devtools.bench [--quick] [--out out/bench/results.json]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import boto3
import requests
from botocore.stub import Stubber
from chalice import Chalice

from chalicelib.config import table_names as tables_of
from chalicelib.storage.dynamo import to_item
from chalicelib.storage.schema import (
    IMPLICIT_LEARNER,
    SESSIONS_BY_GROUP,
    TABLES,
    TOTALS,
    Table,
    index_keys,
    owner,
    partition,
    word_history,
)
from chalicelib.streams.aggregates import AggregateWriter, process
from chalicelib.streams.audit import rebuild
from chalicelib.streams.purge import HistoryPurger
from chalicelib.study.review_cache import ReviewCache
from devtools import dynamodb_local
from devtools.cold_start import Context, proxy_event
from devtools.load import post_in_parallel
from devtools.local_run import start_chalice_local, start_stream_poller
from devtools.package import package
from devtools.processes import stop_processes
from devtools.provision import provision
from devtools.stage import PROJECT_DIR, stage_environment, table_names
from devtools.stream_poller import StreamPoller, local_clients

IMPLICIT_OWNER = owner(IMPLICIT_LEARNER, 0)  # the local stage's one learner, never reset here

STAGE = "local"
FULL = {"warm": 600, "overhead": 3000, "cold": 7, "load": 2000, "threads": 16, "listed": 10_000, "rounds": 3,
        "consumer": 100, "lag": 1000, "reviews": 50_000, "resets": 200, "vocabulary": 1000,
        "beside_erasure": 1_000_000, "fit_words": 1000}
QUICK = {"warm": 20, "overhead": 50, "cold": 1, "load": 40, "threads": 4, "listed": 120, "rounds": 1,
         "consumer": 10, "lag": 20, "reviews": 300, "resets": 5, "vocabulary": 30, "beside_erasure": 2000,
         "fit_words": 100}
PAGED_ACTIVITY = {"id": 900, "name": "Bench Paging"}
PER_PAGE = 10
BODY = {"group_id": 1, "study_activity_id": 1}


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentile(samples, fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def fresh_app(environ: dict):
    """app with new services (empty reference cache), and the DynamoDB client they use."""
    import app
    from chalicelib.config import build_services, dynamodb_client

    client = dynamodb_client()
    app._services = build_services(environ, client)
    app._dashboard = app._catalog = None  # built from the new services on first use
    return app, client


def count_calls(app, client, event) -> int:
    calls = []
    client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name), unique_id="bench-count"
    )
    try:
        app.app(event, Context())
    finally:
        client.meta.events.unregister("before-call.dynamodb", unique_id="bench-count")
    return len(calls)


def measure_calls(environ: dict) -> dict:
    progress("DynamoDB calls per create")
    app, client = fresh_app(environ)
    cold = count_calls(app, client, proxy_event(BODY))
    warm = count_calls(app, client, proxy_event(BODY))
    keyed = proxy_event(BODY, headers={"Idempotency-Key": str(uuid.uuid4())})
    idempotent = count_calls(app, client, keyed)
    replay = count_calls(app, client, keyed)
    unknown = count_calls(app, client, proxy_event({"group_id": 999_999, "study_activity_id": 1}))
    return {"ddb_calls_warm": warm, "ddb_calls_cold": cold, "ddb_calls_idempotent": idempotent,
            "ddb_calls_replay": replay, "ddb_calls_unknown_group": unknown}


def median_round(measure, ratio: str, rounds: int) -> dict:
    """The round whose ``ratio`` is the median of ``rounds`` runs of ``measure``; all ratios too,
    as one run on a shared 2-core machine drifts by several percent."""
    results = sorted((measure() for _ in range(rounds)), key=lambda result: result[ratio])
    return {**results[len(results) // 2], f"{ratio}_rounds": [result[ratio] for result in results]}


def timed_floor_put(client, table: str) -> float:
    """Seconds of one raw conditional PutItem of a session item: the floor a warm write is measured
    against."""
    item = to_item({"id": str(uuid.uuid4()), "group_id": 1, "study_activity_id": 1,
                    "created_at": "2026-11-26T21:54:23Z", **index_keys(IMPLICIT_OWNER, 1, 1)})
    start = time.perf_counter()
    client.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(id)")
    return time.perf_counter() - start


def measure_warm(environ: dict, count: int) -> dict:
    progress(f"warm latency: {count} creates through app.app, interleaved with raw PutItem")
    app, _ = fresh_app(environ)
    client = boto3.client("dynamodb")
    table = environ["STUDY_SESSIONS_TABLE"]
    for _ in range(20):
        app.app(proxy_event(BODY), Context())
    handler, floor = interleaved(app, (proxy_event(BODY) for _ in range(count)), client, table)
    warm_p50, floor_p50 = statistics.median(handler) * 1000, statistics.median(floor) * 1000
    return {"warm_p50_ms": round(warm_p50, 3), "warm_p99_ms": round(percentile(handler, 0.99) * 1000, 3),
            "floor_p50_ms": round(floor_p50, 3), "floor_p99_ms": round(percentile(floor, 0.99) * 1000, 3),
            "warm_p50_ratio": round(warm_p50 / floor_p50, 3)}


def measure_overhead(environ: dict, count: int) -> dict:
    progress(f"handler overhead: {count} stubbed creates vs a one-line Chalice route")
    app, client = fresh_app(environ)
    with Stubber(client) as stub:
        stub.add_response("batch_get_item", {"Responses": {
            environ["GROUPS_TABLE"]: [{"id": {"N": "1"}, "name": {"S": "Core Verbs"}}],
            environ["STUDY_ACTIVITIES_TABLE"]: [{"id": {"N": "1"}, "name": {"S": "Typing Tutor"}}],
        }})
        for _ in range(count + 1):
            stub.add_response("put_item", {})
        app.app(proxy_event(BODY), Context())
        ours = []
        for _ in range(count):
            event = proxy_event(BODY)
            start = time.perf_counter()
            app.app(event, Context())
            ours.append(time.perf_counter() - start)
    bare = Chalice(app_name="bare")
    bare.route("/api/study-sessions", methods=["POST"])(lambda: {"ok": True})
    theirs = []
    for _ in range(count):
        event = proxy_event(BODY)
        start = time.perf_counter()
        bare(event, Context())
        theirs.append(time.perf_counter() - start)
    put_only = []
    with Stubber(client) as stub:
        for _ in range(count):
            stub.add_response("put_item", {})
            start = time.perf_counter()
            client.put_item(TableName=environ["STUDY_SESSIONS_TABLE"], Item={"id": {"S": "x"}})
            put_only.append(time.perf_counter() - start)
    ours_p50, theirs_p50 = statistics.median(ours) * 1e6, statistics.median(theirs) * 1e6
    return {"overhead_p50_us": round(ours_p50, 1), "bare_route_p50_us": round(theirs_p50, 1),
            "overhead_ratio": round(ours_p50 / theirs_p50, 2),
            "stubbed_put_item_p50_us": round(statistics.median(put_only) * 1e6, 1)}


def measure_cold(environ: dict, runs: int, unzipped: Path) -> dict:
    progress(f"cold start: {runs} fresh processes each, alternating")
    samples = {"app": [], "baseline": []}
    env = {**os.environ, **environ, "PYTHONDONTWRITEBYTECODE": "1"}
    commands = {"app": ["app", str(unzipped)], "baseline": ["baseline"]}
    for _ in range(runs):
        for kind in ("app", "baseline"):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "devtools.cold_start", *commands[kind]], cwd=PROJECT_DIR,
                           env=env, check=True)
            samples[kind].append(time.perf_counter() - start)
    app_ms = statistics.median(samples["app"]) * 1000
    base_ms = statistics.median(samples["baseline"]) * 1000
    return {"cold_start_ms": round(app_ms, 1), "cold_baseline_ms": round(base_ms, 1),
            "cold_start_ratio": round(app_ms / base_ms, 3)}


def get_event(resource: str, path_parameters: dict, query: dict) -> dict:
    """An API Gateway REST proxy event of a GET."""
    path = resource.format(**path_parameters)
    return {
        "resource": resource, "path": path, "httpMethod": "GET", "headers": {},
        "multiValueHeaders": {}, "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "pathParameters": path_parameters, "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": "GET", "path": path,
                           "requestId": str(uuid.uuid4()), "stage": "bench"},
        "body": None, "isBase64Encoded": False,
    }


def review_event(session_id: str, word_id: int, correct: bool) -> dict:
    resource = "/api/study-sessions/{session_id}/review"
    event = proxy_event({"word_id": word_id, "correct": correct}, path=resource.format(session_id=session_id))
    event["resource"] = event["requestContext"]["resourcePath"] = resource
    event["pathParameters"] = {"session_id": session_id}
    return event


def consumed_units(app, client, event) -> Tuple[dict, float]:
    """The handler's answer, and the capacity units DynamoDB reported for its calls."""
    units: List[float] = []

    def record(parsed, **_):
        reported = parsed.get("ConsumedCapacity") or []
        units.extend(entry.get("CapacityUnits", 0.0)
                     for entry in (reported if isinstance(reported, list) else [reported]))

    def ask_for_capacity(params, model, **_):
        # Only the bench asks: on DynamoDB Local it makes a PutItem ~13% slower. INDEXES: per table,
        # its indexes' writes included (a transaction's TOTAL leaves some out).
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "INDEXES"

    client.meta.events.register("provide-client-params.dynamodb", ask_for_capacity, unique_id="bench-ask")
    client.meta.events.register("after-call.dynamodb", record, unique_id="bench-units")
    try:
        return app.app(event, Context()), round(sum(units), 1)
    finally:
        client.meta.events.unregister("after-call.dynamodb", unique_id="bench-units")
        client.meta.events.unregister("provide-client-params.dynamodb", unique_id="bench-ask")


def measure_capacity(environ: dict) -> dict:
    """Write units of a create and a review, read units of a session page; warm, as DynamoDB
    Local reports them (a transaction's items cost double)."""
    progress("capacity units of a create, a review and a session page")
    app, client = fresh_app(environ)
    app.app(proxy_event(BODY), Context())
    app.app(get_event("/api/groups/{group_id}/words", {"group_id": "1"}, {}), Context())
    answer, create_units = consumed_units(app, client, proxy_event(BODY))
    session_id = json.loads(answer["body"])["id"]
    names = tables_of(environ)
    reviews = [capacity_units(client, lambda n=n: app.app(review_event(session_id, 1 + n % 3, n % 2 == 0),
                                                          Context()), names)["billed"] for n in range(6)]
    page = get_event("/api/study-sessions/{session_id}", {"session_id": session_id}, {})
    app.app(page, Context())
    answer, page_units = consumed_units(app, client, page)
    assert json.loads(answer["body"])["session"]["id"] == session_id, answer  # its figures: the consumer's
    return {"write_units_create": create_units, "write_units_review": max(reviews),
            "read_units_session_page": page_units}


def round_event(session_id: str, answers: List[Tuple[int, bool]]) -> dict:
    resource = "/study_sessions/{session_id}/review"
    event = proxy_event({"reviews": [{"word_id": word, "is_correct": correct} for word, correct in answers]},
                        path=resource.format(session_id=session_id))
    event["resource"] = event["requestContext"]["resourcePath"] = resource
    event["pathParameters"] = {"session_id": session_id}
    return event


def interleaved(app, events: Iterable[dict], floor_client, floor_table: str,
                before=None) -> Tuple[List[float], List[float]]:
    """Seconds of each event through app.app (each a 201), each followed by a raw PutItem (the
    floor); ``before``: called untimed before each event."""
    handler, floor = [], []
    for event in events:
        if before:
            before()
        start = time.perf_counter()
        answer = app.app(event, Context())
        handler.append(time.perf_counter() - start)
        assert answer["statusCode"] == 201, answer
        floor.append(timed_floor_put(floor_client, floor_table))
    return handler, floor


def timed_reviews(app, session_id: str, words: Sequence[int], floor_client, floor_table: str,
                  before=None) -> Tuple[List[float], List[float]]:
    """interleaved: one review of each of ``words``."""
    events = (review_event(session_id, word, n % 3 != 0) for n, word in enumerate(words))
    return interleaved(app, events, floor_client, floor_table, before)


def latency(handler: List[float], floor: List[float], name: str) -> dict:
    p50, floor_p50 = statistics.median(handler) * 1000, statistics.median(floor) * 1000
    return {f"{name}_p50_ms": round(p50, 3), f"{name}_floor_p50_ms": round(floor_p50, 3),
            f"{name}_p50_ratio": round(p50 / floor_p50, 3)}


def measure_review_costs(environ: dict) -> dict:
    """Units of a review (a word's first and a later one), of a round of 10 words and of a round
    of 100 answers, as transaction items (AWS bills each twice) and as DynamoDB Local reports
    them."""
    progress("reviews: units of a review, a round of 10 words and a round of 100 answers")
    app, client = fresh_app(environ)
    app.app(get_event("/api/groups/{group_id}/words", {"group_id": "1"}, {}), Context())
    session_id = json.loads(app.app(proxy_event(BODY), Context())["body"])["id"]
    names = tables_of(environ)
    first = capacity_units(client, lambda: app.app(review_event(session_id, 10, True), Context()), names)
    later = capacity_units(client, lambda: app.app(review_event(session_id, 10, False), Context()), names)
    fresh_round = capacity_units(client, lambda: app.app(
        round_event(session_id, [(word, word % 3 != 0) for word in range(1, 11)]), Context()), names)
    largest = {}

    def hundred_answers():
        largest["answer"] = app.app(round_event(session_id, [(1 + n % 10, n % 3 != 0) for n in range(100)]),
                                    Context())

    largest_round = capacity_units(client, hundred_answers, names)
    assert largest["answer"]["statusCode"] == 201, largest["answer"]
    return {"review_items_first": first["transacted_items"], "review_items_later": later["transacted_items"],
            "review_units_first": first["billed"], "review_units_later": later["billed"],
            "round_items": fresh_round["transacted_items"], "round_units": fresh_round["billed"],
            "round_100_items": largest_round["transacted_items"], "round_100_units": largest_round["billed"]}


def measure_review_latency(environ: dict, count: int) -> dict:
    """A warm review's p50 against a raw PutItem's, interleaved: of words this function wrote
    last and kept, which carry no round's answers; with nothing kept (all read first); and of
    words a round answered under CARRY_SECONDS ago (their items carry its copies)."""
    progress(f"reviews: {count} warm reviews, {count // 3} kept nothing, {count // 3} after a round")
    app, _ = fresh_app(environ)
    app.app(get_event("/api/groups/{group_id}/words", {"group_id": "1"}, {}), Context())
    session_id = json.loads(app.app(proxy_event(BODY), Context())["body"])["id"]
    floor_client, floor_table = boto3.client("dynamodb"), environ["STUDY_SESSIONS_TABLE"]
    words = [1 + n % 10 for n in range(count)]
    timed_reviews(app, session_id, words[:20], floor_client, floor_table)
    results = latency(*timed_reviews(app, session_id, words, floor_client, floor_table), "review_warm")

    def keep_nothing():
        app._services.reviews._recent = ReviewCache()

    results.update(latency(*timed_reviews(app, session_id, words[:count // 3], floor_client, floor_table,
                                          before=keep_nothing), "review_unkept"))
    # Group 2's words, so that no other figure (nor the next round of this one) carries these copies.
    app.app(get_event("/api/groups/{group_id}/words", {"group_id": "2"}, {}), Context())
    other = json.loads(app.app(proxy_event({**BODY, "group_id": 2}), Context())["body"])["id"]
    after_round: Tuple[List[float], List[float]] = ([], [])
    for _ in range(max(1, count // 30)):  # each review's word answered by a round just before
        app.app(round_event(other, [(word, True) for word in range(11, 21)]), Context())
        handler, floor = timed_reviews(app, other, range(11, 21), floor_client, floor_table)
        after_round[0].extend(handler)
        after_round[1].extend(floor)
    results.update(latency(*after_round, "review_carrying"))
    return results


DUE_GROUP = {"id": 901, "name": "Bench Due Words"}


def measure_due_words(environ: dict, client, names, words: int, reviews: int) -> dict:
    """Read units and calls of due-words pages over a group of ``words`` words whose memories
    replay ``reviews`` stored reviews (written directly, as the reviews' transactions would)."""
    from chalicelib.core.scheduling import Answer, answer_key, replay

    progress(f"due words: a {words}-word group, {reviews} reviews and their memories")
    first_word, reviewed = 100_000, words - words // 10  # a tenth of the group never reviewed
    write_all(client, names["groups"], [DUE_GROUP])
    write_all(client, names["words"], [{"id": first_word + n, "kanji": f"語{n}", "romaji": f"go{n}",
                                        "english": f"word {n}", "group_ids": [DUE_GROUP["id"]]}
                                       for n in range(words)])
    owner_, stored, memories = IMPLICIT_OWNER, [], []
    for n in range(reviewed):
        word_id, answers = first_word + n, []
        for k in range(reviews // reviewed + (n < reviews % reviewed)):  # every 2 days, every 4th wrong
            at = f"2025-{1 + (k * 2 + n % 7) // 28 % 12:02d}-{1 + (k * 2 + n % 7) % 28:02d}T09:00:00Z"
            review_id = str(uuid.uuid4())
            answers.append(Answer(answer_key(at, review_id), (k + n) % 4 != 0))
            stored.append({"id": review_id, "owner": owner_, "study_session_id": "bench-due",
                           "word_id": word_id, "correct": answers[-1].correct, "created_at": at,
                           "owner_word": word_history(owner_, word_id), "reviewed_key": answers[-1].key})
        memories.append({"scope": owner_, "word_id": word_id, "owner": owner_, **replay(word_id, answers)})
    write_all(client, names["word_reviews"], stored)
    write_all(client, names["memories"], memories)
    app, app_client = fresh_app(environ)
    page = get_event("/api/groups/{group_id}/due-words", {"group_id": str(DUE_GROUP["id"])}, {})
    app.app(page, Context())  # the words cached
    answer, first_units = consumed_units(app, app_client, page)
    body = json.loads(answer["body"])
    calls = count_calls(app, app_client, page)
    cursor, pages = None, 0
    while True:  # to the page where the due words end and the new ones begin
        last = get_event("/api/groups/{group_id}/due-words", {"group_id": str(DUE_GROUP["id"])},
                         {"limit": "100", **({"cursor": cursor} if cursor else {})})
        answer, last_units = consumed_units(app, app_client, last)
        listed = json.loads(answer["body"])
        pages += 1
        if any(item["state"] == "new" for item in listed["items"]) or not listed["next_cursor"]:
            break
        cursor = listed["next_cursor"]
    stats = get_event("/dashboard/stats", {}, {})
    _, stats_units = consumed_units(app, app_client, stats)
    return {"due_words_vocabulary": words, "due_words_reviews": len(stored),
            "due_words_page_items": len(body["items"]),
            "read_units_due_words_page": first_units, "due_words_page_calls": calls,
            "read_units_due_words_turn": last_units, "due_words_turn_page": pages,
            "read_units_dashboard_with_due": stats_units}


def measure_fitting(environ: dict, client, names, words: int, per_word: int) -> dict:
    """A fit of one learner's ``words`` x ``per_word`` reviews (simulated, written directly as the
    reviews' transactions would): the fitting function's time, the engine's peak memory and the
    read units; then the recompute of their memories after a change (time, write units)."""
    import random
    import resource
    from datetime import UTC, datetime, timedelta

    import fsrs

    from chalicelib.config import build_services
    from chalicelib.core.scheduling import Answer, answer_key, replay
    from chalicelib.storage.scheduler_repository import FIT_REQUESTED
    from chalicelib.streams.fitter import NodeFitter
    from chalicelib.streams.fitting import FittingWorker
    from chalicelib.streams.recompute import recompute

    progress(f"fitting: {words} words x {per_word} reviews, then their recompute")
    owner_, rng = "bench-fit#0", random.Random(7)
    truth = list(fsrs.scheduler.DEFAULT_PARAMETERS)
    truth[0:4] = [0.1, 0.3, 0.6, 2.0]
    planner, forgetting = fsrs.Scheduler(enable_fuzzing=False), fsrs.Scheduler(parameters=truth,
                                                                              enable_fuzzing=False)
    start, stored, memories = datetime(2024, 1, 1, 9, tzinfo=UTC), [], []
    for n in range(words):
        word_id, answers = 200_000 + n, []
        at = start + timedelta(days=n // 5, seconds=rng.randrange(36_000))
        planned, memory = fsrs.Card(), fsrs.Card()
        for _ in range(per_word):
            recall = forgetting.get_card_retrievability(memory, at) if memory.last_review else 0.5
            correct = rng.random() < recall
            rating = fsrs.Rating.Good if correct else fsrs.Rating.Again
            memory, _ = forgetting.review_card(memory, rating, at)
            planned, _ = planner.review_card(planned, rating, at)
            stamp, review_id = at.strftime("%Y-%m-%dT%H:%M:%SZ"), str(uuid.uuid4())
            answers.append(Answer(answer_key(stamp, review_id), correct))
            stored.append({"id": review_id, "owner": owner_, "study_session_id": "bench-fit",
                           "word_id": word_id, "correct": correct, "created_at": stamp,
                           "owner_word": word_history(owner_, word_id), "reviewed_key": answers[-1].key})
            at = planned.due + timedelta(seconds=rng.randrange(3600))
        memories.append({"scope": owner_, "word_id": word_id, "owner": owner_, **replay(word_id, answers)})
    write_all(client, names["word_reviews"], stored)
    write_all(client, names["memories"], memories)
    store = build_services(environ, client=client).store
    store.scheduler.request_fit(owner_, "2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z")
    assert store.scheduler.scheduler(owner_)[FIT_REQUESTED] == "2026-01-01T00:00:00Z"

    class Sent:
        def send(self, owner, version):
            pass

    worker = FittingWorker(store, NodeFitter(), Sent(), lambda: datetime(2026, 1, 1, tzinfo=UTC))
    started = time.perf_counter()
    outcome = []
    units = capacity_units(client, lambda: outcome.append(worker.fit(owner_, "2026-01-01T00:00:00Z")))
    fit_seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    version = int(store.scheduler.scheduler(owner_).get("version", 0))
    store.scheduler.change(owner_, {"desired_retention": 0.85, "version": version + 1}, version)
    started = time.perf_counter()
    done = []
    recompute_units = capacity_units(client, lambda: done.append(recompute(store, owner_)))
    return {"fit_reviews": len(stored), "fit_words": words, "fit_outcome": outcome[0],
            "fit_seconds": round(fit_seconds, 2), "fit_engine_peak_mib": peak,
            "read_units_fit": round(units["read"], 1), "recompute_memories": done[0].written,
            "recompute_seconds": round(time.perf_counter() - started, 2),
            "write_units_recompute": round(recompute_units["write"], 1),
            "read_units_recompute": round(recompute_units["read"], 1)}


def measure_export(environ: dict) -> dict:
    """GET /api/me/export page by page to the end, over what the runs before stored for the
    implicit learner (measure_page_reads' sessions, measure_due_words' reviews and memories)."""
    progress("export: every page of the learner's data")
    app, _ = fresh_app(environ)
    counts = {"sessions": 0, "reviews": 0, "memories": 0, "aggregates": 0}
    pages, largest, cursor = 0, 0, None
    started = time.perf_counter()
    while True:
        answer = app.app(get_event("/api/me/export", {}, {"cursor": cursor} if cursor else {}), Context())
        assert answer["statusCode"] == 200, answer
        body = json.loads(answer["body"])
        pages, largest = pages + 1, max(largest, len(answer["body"]))
        for part in counts:
            counts[part] += len(body[part])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    seconds = time.perf_counter() - started
    return {"export_pages": pages, "export_seconds": round(seconds, 1),
            "export_page_ms": round(seconds / pages * 1000, 1), "export_largest_page_bytes": largest,
            **{f"export_{part}": number for part, number in counts.items()}}


def measure_page_reads(environ: dict, client, names, count: int, reviews: int) -> dict:
    """Read units of numbered pages of one activity's sessions, and of the portal's dashboard,
    words and group pages, over ``count`` sessions and ``reviews`` reviews, from DynamoDB's own
    figures."""
    progress(f"page reads over {count} sessions and {reviews} reviews")
    client.put_item(TableName=names["study_activities"], Item=to_item(PAGED_ACTIVITY))
    ids = [str(uuid.uuid4()) for _ in range(count)]
    write_all(client, names["study_sessions"], [{
        "id": id_, "group_id": 1, "study_activity_id": PAGED_ACTIVITY["id"],
        "created_at": f"2025-01-01T00:00:{n % 60:02d}Z",
        **index_keys(IMPLICIT_OWNER, 1, PAGED_ACTIVITY["id"])} for n, id_ in enumerate(ids)])
    review_ids = [str(uuid.uuid4()) for _ in range(reviews)]
    write_all(client, names["word_reviews"], [{
        "id": id_, "owner": IMPLICIT_OWNER, "study_session_id": ids[n % count], "word_id": 1 + n % 10,
        "correct": n % 4 != 0, "created_at": "2025-01-01T00:01:00Z",  # indexed by word, as the API writes it
        "owner_word": word_history(IMPLICIT_OWNER, 1 + n % 10), "reviewed_key": f"2025-01-01T00:01:00Z#{id_}"}
        for n, id_ in enumerate(review_ids)])
    rebuild(client, names)  # what the consumer counts, without replaying the records here
    app, app_client = fresh_app(environ)
    last_page = -(-count // PER_PAGE)
    results = {"listed_sessions": count, "listed_reviews": reviews}
    numbered = "/api/study-activities/{activity_id}/sessions"
    pages = {
        "page_1": [(numbered, {"activity_id": str(PAGED_ACTIVITY["id"])}, {"page": "1", "per_page": "10"})],
        "last_page": [(numbered, {"activity_id": str(PAGED_ACTIVITY["id"])},
                       {"page": str(last_page), "per_page": "10"})],
        "dashboard": [("/dashboard/stats", {}, {}), ("/dashboard/recent-session", {}, {})],
        "words_page": [("/words", {}, {"page": "1", "sort_by": "correct_count", "order": "desc"})],
        "group_page": [("/groups/{group_id}", {"group_id": "1"}, {}),
                       ("/groups/{group_id}/words", {"group_id": "1"}, {"page": "1", "sort_by": "kanji"}),
                       ("/groups/{group_id}/study_sessions", {"group_id": "1"},
                        {"page": "1", "sort_by": "startTime", "order": "desc"})],
    }
    for name, calls in pages.items():
        results[f"read_units_{name}"] = 0.0
        for resource, path_parameters, query in calls:
            event = get_event(resource, path_parameters, query)
            app.app(event, Context())  # warm: names and words cached, as for a user paging on
            answer, units = consumed_units(app, app_client, event)
            assert answer["statusCode"] == 200, answer
            if name in ("page_1", "last_page"):
                assert json.loads(answer["body"])["total"] == count, answer
            results[f"read_units_{name}"] += units
    results.update(group_session_sorts(app, app_client))
    return results


GROUP_SESSION_SORTS = {"start_time_desc": ("startTime", "desc"), "start_time_asc": ("start_time", "asc"),
                       "end_time": ("end_time", "desc"), "review_items_count": ("review_items_count", "desc"),
                       "activity_name": ("activity_name", "asc")}


def group_session_sorts(app, app_client) -> dict:
    """Read units of page 1 of the group's sessions page in each order, all sessions in group 1."""
    results = {}
    for name, (sort_by, order) in GROUP_SESSION_SORTS.items():
        event = get_event("/groups/{group_id}/study_sessions", {"group_id": "1"},
                          {"page": "1", "sort_by": sort_by, "order": order})
        app.app(event, Context())
        answer, units = consumed_units(app, app_client, event)
        assert answer["statusCode"] == 200 and len(json.loads(answer["body"])["study_sessions"]) == PER_PAGE
        results[f"read_units_group_sessions_{name}"] = units
    return results


def measure_many_resets(environ: dict, client, names, resets: int) -> dict:
    """A learner who resets ``resets`` times, then one purge run: what it reads and deletes, with
    another learner's 1,000 sessions and 4,000 reviews stored (measure_reset's purge deleted the
    rest), which the purge does not read: three Querys an empty epoch."""
    progress(f"{resets} resets of one learner, then one purge run")
    other = owner("bench-other", 0)
    ids = [str(uuid.uuid4()) for _ in range(1000)]
    write_all(client, names["study_sessions"], [{
        "id": id_, "group_id": 1, "study_activity_id": 1, "created_at": "2025-01-02T00:00:00Z",
        **index_keys(other, 1, 1)} for id_ in ids])
    write_all(client, names["word_reviews"], [{
        "id": str(uuid.uuid4()), "owner": other, "study_session_id": ids[n % 1000], "word_id": 1 + n % 10,
        "correct": True, "created_at": "2025-01-02T00:01:00Z"} for n in range(4000)])
    app, _ = fresh_app(environ)
    event = proxy_event(None, path="/api/study-sessions/reset")
    for _ in range(resets):
        assert app.app(event, Context())["statusCode"] == 200
    calls: List[str] = []
    client.meta.events.register("before-parameter-build.dynamodb",
                                lambda model, **_: calls.append(model.name), unique_id="bench-purge-calls")
    purger, deleted = HistoryPurger(client, names, grace_seconds=0), []
    try:
        units = capacity_units(client, lambda: deleted.append(purger.purge()))
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb", unique_id="bench-purge-calls")
    return {"many_resets": resets, "many_resets_purge_scans": calls.count("Scan"),
            "many_resets_purge_calls": len(calls), "many_resets_purge_read_units": round(units["read"], 1),
            "many_resets_purged_items": deleted[0]}


# Another learner's stored items beside an erasure, by table: as many as each table takes in a
# reasonable time on DynamoDB Local (a session's three indexes make it the slowest to write).
BESIDE_SHARES = {"study_sessions": 0.05, "word_reviews": 0.25, "memories": 0.3, "aggregates": 0.4}
WRITE_THREADS = 8


def other_learner_items(table: str, count: int, owner_: str) -> Iterator[dict]:
    """``count`` items of one learner's history in one table, shaped as the API and the consumer
    write them (each session its own created_at: an index sort key shared by thousands is slow
    to write on DynamoDB Local)."""
    for n in range(count):
        if table == "study_sessions":
            yield {"id": f"00000000-0000-4000-8000-{n:012d}", "group_id": 1, "study_activity_id": 1,
                   "created_at": f"2025-{1 + n // 86400 % 12:02d}-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:"
                                 f"{n % 60:02d}Z", **index_keys(owner_, 1, 1)}
        elif table == "word_reviews":
            yield {"id": f"10000000-0000-4000-8000-{n:012d}", "owner": owner_, "study_session_id": "s",
                   "word_id": 1 + n % 1000, "correct": n % 4 != 0, "created_at": "2025-01-01T00:01:00Z",
                   "owner_word": word_history(owner_, 1 + n % 1000),
                   "reviewed_key": f"2025-01-01T00:01:00Z#{n}"}
        elif table == "memories":
            yield {"scope": owner_, "word_id": 1 + n,
                   "owner": owner_, "state": "review", "stability": 3.5, "difficulty": 5.0,
                   "due": f"2025-02-{1 + n % 28:02d}T00:00:00Z"}
        else:
            yield {"learner": owner_, "item": f"seen#{n:040d}", "expires_at": 1}


def write_parallel(client, table: str, items: Iterator[dict]) -> None:
    """BatchWriteItems of 25 from WRITE_THREADS threads, what DynamoDB leaves unprocessed sent again."""
    def send(batch: List[dict]) -> None:
        request = {table: [{"PutRequest": {"Item": to_item(item)}} for item in batch]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    def batches() -> Iterator[List[dict]]:
        batch = []
        for item in items:
            batch.append(item)
            if len(batch) == 25:
                yield batch
                batch = []
        if batch:
            yield batch

    with ThreadPoolExecutor(WRITE_THREADS) as pool:
        for _ in pool.map(send, batches()):
            pass


def erased_learner_history(learner: str, sessions: int, reviews: int) -> dict:
    """Table -> the items of one learner's history as the API and the consumer leave them: sessions,
    reviews of words 1 to 20 (the seeded words, in groups 1 and 2), each word's memory,
    aggregates and a marker per record."""
    owner_ = owner(learner, 0)
    ids = [str(uuid.uuid4()) for _ in range(sessions)]
    history = {"study_sessions": [{"id": id_, "group_id": 1, "study_activity_id": 1,
                                   "created_at": f"2025-03-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
                                   **index_keys(owner_, 1, 1)} for n, id_ in enumerate(ids)],
               "word_reviews": [], "memories": [], "aggregates": []}
    for n in range(reviews):
        review_id = str(uuid.uuid4())
        history["word_reviews"].append({
            "id": review_id, "owner": owner_, "study_session_id": ids[n % sessions], "word_id": 1 + n % 20,
            "correct": n % 3 != 0, "created_at": "2025-03-01T01:00:00Z",
            "owner_word": word_history(owner_, 1 + n % 20),
            "reviewed_key": f"2025-03-01T01:00:00Z#{review_id}"})
    history["memories"] = [{"scope": owner_, "word_id": word, "owner": owner_, "state": "review"}
                           for word in range(1, 21)]
    history["aggregates"] = [{"learner": owner_, "item": name, "sessions": 1} for name in
                             (TOTALS, "group#1", "activity#1", "days#2025")] + [
        {"learner": owner_, "item": f"word#{word}", "correct": 1, "wrong": 0} for word in range(1, 21)] + [
        {"learner": owner_, "item": f"seen#{n:040d}", "expires_at": 1} for n in range(sessions + reviews)]
    return history


def measure_erasure_beside(environ: dict, client, names, beside: int) -> dict:
    """One learner's erasure, then the purge run that deletes it, with another learner's ``beside``
    items stored across the four tables the purge deletes from: what it reads and calls."""
    from chalicelib.config import REQUEST_DEADLINE
    from chalicelib.learners.identity import Identity

    progress(f"erasure purge beside another learner's {beside} items: writing them")
    started = time.perf_counter()
    for table, share in BESIDE_SHARES.items():
        write_parallel(client, names[table], other_learner_items(table, int(beside * share), "bench-kept#0"))
    written_seconds = time.perf_counter() - started
    learner = "bench-erased"
    history = erased_learner_history(learner, sessions=100, reviews=1000)
    for table, items in history.items():
        write_parallel(client, names[table], iter(items))
    app, _ = fresh_app({**environ, "AUTH_MODE": "cognito"})
    REQUEST_DEADLINE.start()
    app.services().learner_data().erase(Identity(learner, None, None))
    progress("erasure purge: one run")
    calls: List[str] = []
    accounts: List[str] = []
    client.meta.events.register("before-parameter-build.dynamodb",
                                lambda model, **_: calls.append(model.name), unique_id="bench-erasure-calls")
    purger, deleted = HistoryPurger(client, names, grace_seconds=0, delete_account=accounts.append), []
    try:
        start = time.perf_counter()
        units = capacity_units(client, lambda: deleted.append(purger.purge()))
        seconds = time.perf_counter() - start
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb", unique_id="bench-erasure-calls")
    assert accounts == [learner], accounts
    return {"beside_items": sum(int(beside * share) for share in BESIDE_SHARES.values()),
            "beside_write_seconds": round(written_seconds, 1), "beside_write_threads": WRITE_THREADS,
            "erased_items": sum(len(items) for items in history.values()), "erasure_purged_items": deleted[0],
            "erasure_purge_seconds": round(seconds, 2), "erasure_purge_calls": len(calls),
            "erasure_purge_calls_by_operation": ", ".join(f"{name} {calls.count(name)}"
                                                          for name in sorted(set(calls))),
            "erasure_purge_scans": calls.count("Scan"), "erasure_purge_read_units": round(units["read"], 1)}


def measure_reset(environ: dict, client, names, count: int) -> dict:
    """Settings' reset over the history measure_page_reads stored: its latency and units, what the
    dashboard reads right after, and the purge of the old history that follows off the request path."""
    progress(f"reset over {count} sessions, then the purge")
    app, app_client = fresh_app(environ)
    app.app(get_event("/dashboard/stats", {}, {}), Context())  # warm
    event = proxy_event(None, path="/api/study-sessions/reset")
    start = time.perf_counter()
    answer, units = consumed_units(app, app_client, event)
    elapsed = time.perf_counter() - start
    assert answer["statusCode"] == 200, answer
    stats, _ = consumed_units(app, app_client, get_event("/dashboard/stats", {}, {}))
    assert json.loads(stats["body"])["total_sessions"] == 0, stats
    start = time.perf_counter()
    deleted = HistoryPurger(client, names, grace_seconds=0).purge()
    return {"reset_ms": round(elapsed * 1000, 1), "capacity_units_reset": units,
            "purge_seconds": round(time.perf_counter() - start, 1), "purged_items": deleted}


def write_all(client, table: str, items: List[dict]) -> None:
    for start in range(0, len(items), 25):
        client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": to_item(item)}}
                                                      for item in items[start:start + 25]]})


def measure_consumer_units(environ: dict, client, names, count: int) -> dict:
    """Write units the consumer spends per session and per review record, over a batch of each
    (10 words reviewed)."""
    progress(f"consumer: write units of {count} session and {count} review records")
    app, _ = fresh_app(environ)
    session_id = json.loads(app.app(proxy_event(BODY), Context())["body"])["id"]
    for n in range(count):
        app.app(proxy_event(BODY), Context())
        app.app(review_event(session_id, 1 + n % 10, n % 3 != 0), Context())
    records = {"study_sessions": [], "word_reviews": []}
    poller = StreamPoller(*local_clients(), [names["study_sessions"], names["word_reviews"]],
                          lambda event: records_by_table(event, names, records) or {})
    while poller.poll_once():
        pass
    writer = AggregateWriter(client, names)
    results = {}
    for table, kind in (("study_sessions", "session"), ("word_reviews", "review")):
        batch = records[table][-count:]
        units = capacity_units(client, lambda batch=batch: process(batch, names, writer))
        # DynamoDB Local reports 2.0 per table for a transaction; AWS bills 2 per item (<= 1 KB).
        results[f"consumer_items_per_{kind}"] = round(units["transacted_items"] / len(batch), 2)
        results[f"consumer_write_units_per_{kind}"] = round(2 * units["transacted_items"] / len(batch), 2)
        results[f"consumer_read_units_per_{kind}"] = round(units["read"] / len(batch), 2)
    return results


def records_by_table(event: dict, names, records: dict) -> None:
    for record in event["Records"]:
        for table in records:
            if f":table/{names[table]}/" in record["eventSourceARN"]:
                records[table].append(record)


def attribute_size(value: dict) -> int:
    """Bytes of one attribute value as DynamoDB sizes it: a string's UTF-8, a number's digits two to
    a byte plus one, a map or list 3 bytes and a byte an element beside its names and values."""
    [(kind, inner)] = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return (len(inner.lstrip("-").replace(".", "").lstrip("0")) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + attribute_size(item) + 1 for name, item in inner.items())
    if kind == "L":
        return 3 + sum(attribute_size(item) + 1 for item in inner)
    if kind in ("SS", "NS"):
        return sum(attribute_size({kind[0]: element}) for element in inner)
    raise ValueError(f"no size for a {kind} attribute")


def item_units(item: dict) -> int:
    """Write units of one item: a unit per KB of its names and values as DynamoDB sizes them."""
    size = sum(len(name.encode()) + attribute_size(value) for name, value in item.items())
    return -(-size // 1024)


def billed_transaction_units(transact_items: List[dict], tables: Dict[str, Table]) -> int:
    """What AWS bills a TransactWriteItems: each item twice, and each index entry a Put writes
    twice (DynamoDB Local reports one item a table of a transaction)."""
    units = 0
    for entry in transact_items:
        [(kind, action)] = entry.items()
        table = tables.get(action["TableName"])
        if kind != "Put" or table is None:
            units += 2  # an Update of an item under 1 KB whose index keys stay, or a ConditionCheck
            continue
        indexed = [index for index in table.indexes + table.local_indexes
                   if all(key[0] in action["Item"] for key in (index.partition_key, index.sort_key) if key)]
        units += 2 * item_units(action["Item"]) * (1 + len(indexed))
    return units


def capacity_units(client, work, names: Optional[Dict[str, str]] = None) -> dict:
    """Read and write units DynamoDB reports for ``work()``'s calls on this client; with the
    tables' ``names``, also what AWS bills its transactions (``billed``), the rest as reported."""
    units = {"read": 0.0, "write": 0.0, "transacted_items": 0, "billed": 0.0}
    by_name = {names[logical]: table for logical, table in TABLES.items()} if names else {}

    def ask(params, model, **_):
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "INDEXES"  # per table, its indexes' writes included
        units["transacted_items"] += len(params.get("TransactItems", []))
        if model.name == "TransactWriteItems":
            units["billed"] += billed_transaction_units(params["TransactItems"], by_name)

    def record(parsed, model, **_):
        reported = parsed.get("ConsumedCapacity") or []
        kind = "write" if model.name in ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem",
                                         "BatchWriteItem") else "read"
        for entry in reported if isinstance(reported, list) else [reported]:
            units[kind] += entry.get("CapacityUnits", 0.0)
            if kind == "write" and model.name != "TransactWriteItems":
                units["billed"] += entry.get("CapacityUnits", 0.0)

    client.meta.events.register("provide-client-params.dynamodb", ask, unique_id="bench-ask-units")
    client.meta.events.register("after-call.dynamodb", record, unique_id="bench-units-all")
    try:
        work()
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb", unique_id="bench-ask-units")
        client.meta.events.unregister("after-call.dynamodb", unique_id="bench-units-all")
    return units


def measure_lag(server, client, names, count: int) -> dict:
    """From each create's 201 to the moment the sessions total counts it, through make run's
    server and stream poller: creates at a steady pace, the total watched every 10 ms."""
    progress(f"aggregate lag: {count} creates, total watched")
    key = {"learner": {"S": IMPLICIT_OWNER}, "item": {"S": TOTALS}}

    def total():
        item = client.get_item(TableName=names["aggregates"], Key=key, ConsistentRead=True).get("Item")
        return int(item["sessions"]["N"]) if item else 0

    def stored_sessions():
        pages = client.get_paginator("scan").paginate(TableName=names["study_sessions"], Select="COUNT")
        return sum(page["Count"] for page in pages)

    deadline = time.monotonic() + 120
    while total() < stored_sessions() and time.monotonic() < deadline:  # the load's backlog first
        time.sleep(0.2)
    start_total, acked, seen, done = total(), [], {}, threading.Event()

    def watch():
        while not done.is_set() or len(seen) < len(acked):
            now, value = time.perf_counter(), total() - start_total
            for n in range(len(seen) + 1, value + 1):
                seen[n] = now
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with requests.Session() as http:
        for _ in range(count):
            answer = http.post(f"{server}/api/study-sessions", json={"group_id": 2, "study_activity_id": 1},
                               timeout=30)
            assert answer.status_code == 201, answer.text
            acked.append(time.perf_counter())
            time.sleep(0.005)
    done.set()
    watcher.join(timeout=60)
    lags = [seen[n] - acked[n - 1] for n in range(1, count + 1) if n in seen]
    return {"aggregate_lag_p50_ms": round(statistics.median(lags) * 1000, 1),
            "aggregate_lag_p99_ms": round(percentile(lags, 0.99) * 1000, 1),
            "aggregate_lag_missing": count - len(lags)}


def measure_load(server, client, names, count: int, threads: int) -> dict:
    """The same load on one kept-alive connection per thread, then on a new connection per request."""

    def sessions():
        pages = client.get_paginator("query").paginate(
            TableName=names["study_sessions"], IndexName=SESSIONS_BY_GROUP.name, Select="COUNT",
            KeyConditionExpression="owner_group = :g",
            ExpressionAttributeValues={":g": {"S": partition(SESSIONS_BY_GROUP, IMPLICIT_OWNER, 2)}})
        return sum(page["Count"] for page in pages)

    results = {}
    for prefix, keep_alive in (("load", True), ("load_new_connections", False)):
        progress(f"load: {count} creates from {threads} threads through chalice local, "
                 f"{'kept-alive connections' if keep_alive else 'a new connection per request'}")
        before, overflows = sessions(), listen_overflows()
        start = time.perf_counter()
        replies = post_in_parallel(server, {"group_id": 2, "study_activity_id": 1}, count, threads,
                                   keep_alive=keep_alive)
        elapsed = time.perf_counter() - start
        created = sum(1 for reply in replies if reply.status == 201)
        failures = {}
        for reply in replies:
            if reply.status != 201:
                kind = reply.failure or str(reply.status)
                failures[kind] = failures.get(kind, 0) + 1
        latencies = [reply.seconds for reply in replies]
        results.update({
            f"{prefix}_rps": round(count / elapsed, 1),
            f"{prefix}_p50_ms": round(statistics.median(latencies) * 1000, 2),
            f"{prefix}_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
            f"{prefix}_errors": count - created, f"{prefix}_lost": created - (sessions() - before),
            f"{prefix}_listen_overflows": listen_overflows() - overflows,
            f"{prefix}_failures": failures,
        })
    progress(f"one client: {count // 4} sequential creates on one kept-alive connection")
    replies = post_in_parallel(server, {"group_id": 2, "study_activity_id": 1}, count // 4, 1)
    results["one_client_p50_ms"] = round(statistics.median(reply.seconds for reply in replies) * 1000, 2)
    results["one_client_errors"] = sum(1 for reply in replies if reply.status != 201)
    return {"load_requests": count, "load_threads": threads, **results}


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was full."""
    names, values = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines()[:2]]
    return int(dict(zip(names, values, strict=True))["ListenOverflows"])


def packaged_zip(out: Path) -> Tuple[dict, Path]:
    """The Lambda zip of `make package`, its size, and the folder it unpacks to, read-only as
    Lambda's /var/task."""
    progress("Lambda zip from make package")
    template = package("dev", out / "dev")
    unzipped = out / "task"
    with zipfile.ZipFile(template.parent / "deployment.zip") as archive:
        archive.extractall(unzipped)
    for path in [unzipped, *unzipped.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    return {"zip_bytes": (template.parent / "deployment.zip").stat().st_size}, unzipped


def machine(jar_dir: Path) -> dict:
    return {"cpu_count": os.cpu_count(), "python": platform.python_version(),
            "boto3": boto3.__version__, "dynamodb_local": dynamodb_local.version(jar_dir)}


def markdown(results: dict) -> str:
    rows = [
        ("DynamoDB calls per create: warm / cold / with key / replay / unknown group",
         "{ddb_calls_warm} / {ddb_calls_cold} / {ddb_calls_idempotent} / {ddb_calls_replay} / "
         "{ddb_calls_unknown_group}", "design: 1 warm, 2 cold; resets off, as on prod"),
        ("The same where resets are on (local, dev)",
         "{ddb_calls_warm_with_resets} / {ddb_calls_cold_with_resets} / {ddb_calls_idempotent_with_resets} / "
         "{ddb_calls_replay_with_resets} / {ddb_calls_unknown_group_with_resets}",
         "+1 GetItem of the learner's epoch once the input is valid"),
        ("Warm create through app.app, p50 / p99", "{warm_p50_ms} ms / {warm_p99_ms} ms", ""),
        ("Raw PutItem (floor), p50 / p99", "{floor_p50_ms} ms / {floor_p99_ms} ms", ""),
        ("Warm p50 ratio to the floor", "{warm_p50_ratio}",
         "median of rounds {warm_p50_ratio_rounds}; lower is better; 1 is the floor; goal <= 1.15"),
        ("Handler overhead without I/O, p50", "{overhead_p50_us} µs vs {bare_route_p50_us} µs",
         "vs one-line Chalice route"),
        ("Overhead ratio", "{overhead_ratio}", "of which botocore's own stubbed PutItem: "
         "{stubbed_put_item_p50_us} µs"),
        ("Cold start to first create, median", "{cold_start_ms} ms vs {cold_baseline_ms} ms",
         "vs bare Chalice + boto3 PutItem"),
        ("Cold start ratio", "{cold_start_ratio}",
         "median of rounds {cold_start_ratio_rounds}; goal <= 1.10"),
        ("One client, sequential creates on one kept-alive connection, p50", "{one_client_p50_ms} ms",
         "vs the warm create above: no 50 ms Nagle stall"),
        ("Load via make run's server, kept-alive connections", "{load_requests} creates, "
         "{load_threads} threads: {load_rps} req/s, p50 {load_p50_ms} ms, p99 {load_p99_ms} ms",
         ""),
        ("Load via make run's server, a new connection per request", "{load_requests} creates, "
         "{load_threads} threads: {load_new_connections_rps} req/s, p50 {load_new_connections_p50_ms} ms, "
         "p99 {load_new_connections_p99_ms} ms", ""),
        ("Load errors / lost writes (kept-alive; new connections)",
         "{load_errors} / {load_lost}; {load_new_connections_errors} / {load_new_connections_lost}",
         "must be 0 / 0"),
        ("Connections the kernel dropped from a full listen queue (kept-alive; new connections)",
         "{load_listen_overflows}; {load_new_connections_listen_overflows}", "listen queue: 128"),
        ("Write units: create / review", "{write_units_create} / {write_units_review}",
         "review: one transaction: the review (and its entry in the index by word) and the word's memory "
         "item, each billed twice; goal <= 6; was 13.0 with the session, the group copies and the index "
         "by due, 4.0 before scheduling"),
        ("Read units of a session page (GET /api/study-sessions/{id}), warm", "{read_units_session_page}",
         ""),
        ("Read units of a numbered page (per_page 10): page 1 / last page",
         "{read_units_page_1} / {read_units_last_page} over {listed_sessions} sessions",
         "the list's aggregate + a page of keys from the nearer end + the page's sessions"),
        ("Consumer's units per session record: write / read",
         "{consumer_write_units_per_session} / {consumer_read_units_per_session}",
         "{consumer_items_per_session} transaction items a record: its marker and its share of the "
         "batch's counters, 2 units each"),
        ("Consumer's units per review record: write / read",
         "{consumer_write_units_per_review} / {consumer_read_units_per_review}",
         "{consumer_items_per_review} transaction items a record: its marker and its share of the "
         "words' and totals' updates; what they change read first"),
        ("Read units of the dashboard, both calls (stats, recent-session), warm", "{read_units_dashboard}",
         "over {listed_sessions} sessions and {listed_reviews} reviews; goal <= 3 for stats"),
        ("Read units of the words page sorted by correct_count / a group page (3 calls), warm",
         "{read_units_words_page} / {read_units_group_page}", "the learner's word counts; the group's "
         "words and its newest sessions"),
        ("Lag from a 201 to the sessions total (make run), p50 / p99",
         "{aggregate_lag_p50_ms} ms / {aggregate_lag_p99_ms} ms", "goal < 2 s"),
        ("Reset (Settings' Reset History), warm: latency / capacity units", "{reset_ms} ms / "
         "{capacity_units_reset}", "over {listed_sessions} sessions and {listed_reviews} reviews: the "
         "epoch read and one UpdateItem; goal < 1 s"),
        ("Purge of the old history afterwards (off the request path)", "{purged_items} items in "
         "{purge_seconds} s", "sessions, reviews, memories and aggregates: the epoch's own partitions"),
        ("Many resets of one learner, then one purge run",
         "{many_resets} resets: {many_resets_purge_scans} Scans, "
         "{many_resets_purge_calls} calls, {many_resets_purge_read_units} read units, "
         "{many_resets_purged_items} items deleted", "another learner's 1,000 sessions and 4,000 reviews "
         "stored, not read: 3 Querys an empty epoch; was one Scan of each table (4 Scans, 7 calls, "
         "101.0 read units), and before that 2 Scans per reset"),
        ("Purge of an erasure beside another learner's items",
         "{erased_items} items of the erased learner: {erasure_purged_items} deleted in "
         "{erasure_purge_seconds} s, {erasure_purge_calls} calls, {erasure_purge_read_units} read units, "
         "{erasure_purge_scans} Scans", "{beside_items} items of another learner stored (written in "
         "{beside_write_seconds} s, BatchWriteItem from {beside_write_threads} threads), none read; "
         "calls {erasure_purge_calls_by_operation}"),
        ("Read units of the group's sessions page 1 by start_time: desc / asc",
         "{read_units_group_sessions_start_time_desc} / {read_units_group_sessions_start_time_asc}",
         "over {listed_sessions} sessions in one group; asc was the whole group (776 units over 1,503)"),
        ("The same by end_time / review_items_count / activity_name",
         "{read_units_group_sessions_end_time} / {read_units_group_sessions_review_items_count} / "
         "{read_units_group_sessions_activity_name}", "the group's newest 100 sessions, sorted; bound: 100"),
        ("Lambda zip", "{zip_bytes} bytes",
         "sources and bytecode, the scheduler's included; limit in tests: 589824 (576 KiB)"),
        ("A review's transaction: items / units billed, first review of a word / later",
         "{review_items_first} / {review_units_first}; {review_items_later} / {review_units_later}",
         "each item billed twice, index entries included; was 5 / 12.0 and 4 / 12.0 with the session and "
         "the group copies, 2 items (review, session) and 4.0 units before scheduling"),
        ("A round of 10 words: transaction items / units billed", "{round_items} / {round_units}",
         "goal <= 40: the transaction holds the words' memory items, each carrying its reviews (billed "
         "twice); the reviews' own items and index entries follow outside it; was 20 / 60 with the "
         "reviews in the transaction, 32 items with the session and the group copies"),
        ("A round of 100 answers of 10 words: transaction items / units billed",
         "{round_100_items} / {round_100_units}", "goal: 100 answers, all or none (was 99, and 30 "
         "before that); each memory item carries its word's 10 answers (~5 KB)"),
        ("Warm review p50 / raw PutItem p50 (ratio)",
         "{review_warm_p50_ms} ms / {review_warm_floor_p50_ms} ms ({review_warm_p50_ratio})",
         "one transaction: the function wrote the word last and kept it; goal <= 2.0; was 3.784; "
         "median of rounds {review_warm_p50_ratio_rounds}"),
        ("Review p50 when the function kept nothing (ratio to the floor)", "{review_unkept_p50_ms} ms "
         "({review_unkept_p50_ratio})", "the session and the word's memory read first (one BatchGetItem)"),
        ("Warm review p50 of a word a round answered just before (ratio to the floor)",
         "{review_carrying_p50_ms} ms ({review_carrying_p50_ratio})",
         "its memory item carries the round's answer of the word (~0.45 KB) for 10 s"),
        ("Read units of a due-words page (20) / the page where new words begin (100); calls",
         "{read_units_due_words_page} / {read_units_due_words_turn}; {due_words_page_calls}",
         "a {due_words_vocabulary}-word group, {due_words_reviews} reviews stored; "
         "page {due_words_turn_page} of 100 holds the first new words; each page reads the learner's "
         "memories (bound: their reviewed words, ~18 a unit); was 1.0 / 1.0 from the group copies"),
        ("Export of the learner's data (GET /api/me/export, 100 items a page), warm",
         "{export_pages} pages in {export_seconds} s ({export_page_ms} ms a page); largest page "
         "{export_largest_page_bytes} bytes", "{export_sessions} sessions, {export_reviews} reviews, "
         "{export_memories} memories, {export_aggregates} aggregates"),
        ("A fit of one learner (the fitting function, the engine as `node cli.mjs`)",
         "{fit_seconds} s, engine peak {fit_engine_peak_mib} MiB, {read_units_fit} read units",
         "{fit_reviews} reviews of {fit_words} words: {fit_outcome}"),
        ("The recompute of a learner's memories after a change", "{recompute_seconds} s, "
         "{write_units_recompute} write units, {read_units_recompute} read units",
         "{recompute_memories} memories rewritten"),
        ("Read units of the dashboard's stats with words_due", "{read_units_dashboard_with_due}",
         "the due count reads the learner's memories: ~18 a unit (bound: their reviewed words); was "
         "26.0 counting the due words of an index by due"),
    ]
    lines = ["| measure | result | note |", "|---|---|---|"]
    lines += [f"| {name} | {value.format(**results)} | {note.format(**results)} |"
              for name, value, note in rows]
    lines.append(f"\nMachine: {results['cpu_count']} CPUs, Python {results['python']}, "
                 f"boto3 {results['boto3']}, DynamoDB Local {results['dynamodb_local']}.")
    return "\n".join(lines)


def run(counts: dict) -> dict:
    port = dynamodb_local.free_port()
    with dynamodb_local.DynamoDBLocal(port) as database, tempfile.TemporaryDirectory() as scratch:
        names = table_names(STAGE)
        client = dynamodb_local.client(database.endpoint)
        provision(client, names)
        # Resets off, as on prod: the figures of the deployed service; with resets on (local,
        # dev) each request first reads the learner's epoch, measured beside them.
        environ = {**stage_environment(STAGE), **dynamodb_local.LOCAL_CREDENTIALS,
                   "AWS_ENDPOINT_URL_DYNAMODB": database.endpoint, "RESET_HISTORY": "disabled"}
        with_resets = {**environ, "RESET_HISTORY": "enabled"}
        os.environ.update(environ)
        results = machine(database.jar_dir)
        results.update(measure_calls(environ))
        results.update({f"{name}_with_resets": value for name, value in measure_calls(with_resets).items()})
        results.update(measure_capacity(environ))
        results.update(measure_review_costs(environ))
        results.update(median_round(lambda: measure_review_latency(environ, counts["warm"]),
                                    "review_warm_p50_ratio", counts["rounds"]))
        results.update(median_round(lambda: measure_warm(environ, counts["warm"]), "warm_p50_ratio",
                                    counts["rounds"]))
        results.update(measure_overhead(environ, counts["overhead"]))
        zipped, unzipped = packaged_zip(Path(scratch))
        results.update(zipped)
        results.update(median_round(lambda: measure_cold(environ, counts["cold"], unzipped),
                                    "cold_start_ratio", counts["rounds"]))
        results.update(measure_consumer_units(environ, client, names, counts["consumer"]))
        api = start_chalice_local(dynamodb_local.free_port(), database.endpoint,
                                  log_path=Path(tempfile.gettempdir()) / "bench-chalice-local.log")
        poller = start_stream_poller(database.endpoint)
        try:
            server = f"http://127.0.0.1:{api.args[-1]}"
            results.update(measure_load(server, client, names, counts["load"], counts["threads"]))
            results.update(measure_lag(server, client, names, counts["lag"]))
        finally:
            stop_processes(api, poller)
        results.update(measure_page_reads(environ, client, names, counts["listed"], counts["reviews"]))
        results.update(measure_due_words(environ, client, names, counts["vocabulary"], counts["reviews"]))
        results.update(measure_export(environ))
        results.update(measure_fitting(environ, client, names, counts["fit_words"], 12))
        results.update(measure_reset(with_resets, client, names, counts["listed"]))
        results.update(measure_many_resets(with_resets, client, names, counts["resets"]))
        results.update(measure_erasure_beside(environ, client, names, counts["beside_erasure"]))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts, for a smoke test")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "out" / "bench" / "results.json")
    args = parser.parse_args()
    started = time.perf_counter()
    results = run(QUICK if args.quick else FULL)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(markdown(results))
    progress(f"done in {time.perf_counter() - started:.0f} s; figures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
