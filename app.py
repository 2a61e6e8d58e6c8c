"""Routes of the study-sessions API: each parses the request, makes one call into
chalicelib and returns its answer."""
import functools
import os

from chalice import Chalice, Cron, Rate

from chalicelib import http
from chalicelib.config import (
    PURGE_EVERY_MINUTES,
    REQUEST_DEADLINE,
    auth_mode,
    build_aggregate_writer,
    build_fitting_worker,
    build_purger,
    build_recomputer,
    build_services,
    cors_config,
    table_names,
)
from chalicelib.learners.identity import authorizer, identity_of, learner_of
from chalicelib.storage.access import API, FIT_DUE, FITTING, RECOMPUTE, running_as

app = Chalice(app_name="study-sessions")
app.log.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
CORS = cors_config()
# Every route that reads or writes a learner's data needs a signed-in learner on stages with
# sign-in; reference data (groups, activities, words without counts) is public.
LEARNERS = authorizer()
app.register_middleware(http.json_middleware(app, CORS), "http")

_services = None
_dashboard = None
_catalog = None
_learner_data = None
_scheduler = None
_aggregate_writer = None
_fitting_worker = None
_recomputer = None
# Replaced in the packaged template by the stream of the sessions table, and a second event for
# the reviews table's stream (devtools/consumer_template.py); `make run` polls both
# (devtools/stream_poller.py).
# Replaced in the packaged template by the stack's fit queue (devtools/fitting_template.py).
FIT_QUEUE_PLACEHOLDER = "fit-requests"
RECOMPUTE_QUEUE_PLACEHOLDER = "recomputes"
SESSIONS_STREAM_PLACEHOLDER = "arn:aws:dynamodb:us-east-1:000000000000:table/sessions/stream/placeholder"


def services():
    """Built on first use, so importing this module makes no AWS client."""
    global _services
    if _services is None:
        _services = build_services()
    return _services


def dashboard():
    global _dashboard
    if _dashboard is None:
        _dashboard = services().dashboard()
    return _dashboard


def catalog():
    global _catalog
    if _catalog is None:
        _catalog = services().catalog()
    return _catalog


def learner():
    return learner_of(app.current_request, auth_mode())


def learner_data():
    global _learner_data
    if _learner_data is None:
        _learner_data = services().learner_data()
    return _learner_data


def scheduler():
    global _scheduler
    if _scheduler is None:
        _scheduler = services().scheduler()
    return _scheduler


def route(path, methods=("GET",), public=False):
    def register(view):
        @functools.wraps(view)
        @running_as(API)
        def within_deadline(*args, **kwargs):
            REQUEST_DEADLINE.start()
            try:
                return view(*args, **kwargs)
            finally:  # what this thread runs next (a queue's message, a schedule) has no request's budget
                REQUEST_DEADLINE.clear()

        return app.route(
            path, methods=list(methods), cors=CORS, content_types=["*/*"],
            authorizer=None if public else LEARNERS,
        )(http.translate_exceptions(within_deadline))

    return register


@route("/api/study-sessions", methods=["POST"])
def create_study_session():
    return _create(app.current_request)


@route("/study_sessions", methods=["POST"])
def create_study_session_lang_portal_path():
    """The path the lang-portal frontend's Launch button posts to."""
    return _create(app.current_request)


def _create(request):
    session, replayed = services().sessions.create(
        learner(), http.json_body(request), request.headers.get("idempotency-key")
    )
    return http.session_created(request, session, replayed)


@route("/api/study-sessions/{session_id}/review", methods=["POST"])
def review_word(session_id):
    return _review(app.current_request, session_id, None)


@route("/api/study-sessions/{session_id}/words/{word_id}/review", methods=["POST"])
def review_word_in_path(session_id, word_id):
    return _review(app.current_request, session_id, word_id)


def _review(request, session_id, word_id):
    review, replayed = services().reviews.review(
        learner(), session_id, word_id, http.json_body(request), request.headers.get("idempotency-key")
    )
    return http.created(review, replayed)


@route("/study_sessions/{session_id}/review", methods=["POST"])
def review_round(session_id):
    """The lang-portal's submitStudySessionReview: a round of answers at once."""
    request = app.current_request
    body, replayed = services().reviews.review_round(learner(), session_id, http.json_body(request),
                                            request.headers.get("idempotency-key"))
    return http.created(body, replayed)


@route("/api/study-sessions/{session_id}/next-words")
def next_words(session_id):
    """What an activity launched with ?session_id= asks next: the due words of the session's group."""
    return services().due_words.for_session(learner(), session_id, http.query(app.current_request))


@route("/api/study-sessions")
def list_study_sessions():
    return services().sessions.list_all(learner(), http.query(app.current_request))


@route("/api/study-sessions/reset", methods=["POST"])
def reset_study_history():
    """Settings' Reset History: the learner's sessions, reviews and figures start from nothing."""
    return services().sessions.reset(learner())


@route("/api/study-sessions/{session_id}")
def get_study_session(session_id):
    return services().sessions.get(learner(), session_id, http.query(app.current_request))


@route("/api/me/export")
def export_my_data():
    """Everything stored for the learner, a page at a time (chalicelib.study.data_rights)."""
    body, filename = learner_data().export(identity_of(app.current_request, auth_mode()),
                                           http.query(app.current_request))
    return http.attachment(body, filename)


@route("/api/me", methods=["DELETE"])
def erase_me():
    """The learner's account now, their data off the request path; 202 with when."""
    return http.accepted(learner_data().erase(identity_of(app.current_request, auth_mode())))


@route("/api/me/scheduler")
def my_scheduler():
    """The FSRS parameters and desired retention the learner's memories are computed with."""
    return scheduler().get(learner())


@route("/api/me/scheduler", methods=["PUT"])
def change_my_scheduler():
    """A desired retention of 0.70 to 0.97, from the next review on (chalicelib.study.scheduler)."""
    return scheduler().change(learner(), http.json_body(app.current_request))


@route("/api/me/scheduler/fit", methods=["POST"])
def fit_my_scheduler():
    """A fit of the learner's parameters to their reviews, off the request: 202 with where to look."""
    return http.accepted(scheduler().request_fit(learner()))


@route("/dashboard/stats")
def dashboard_stats():
    return dashboard().stats(learner())


@route("/dashboard/recent-session")
def dashboard_recent_session():
    return http.json_or_null(dashboard().recent_session(learner()))


@route("/words")
def words_page():
    return catalog().words_page(learner(), http.query(app.current_request))


@route("/words/{word_id}")
def word_page(word_id):
    return catalog().word(learner(), word_id)


@route("/groups", public=True)
def groups_page():
    return catalog().groups_page(http.query(app.current_request))


@route("/groups/{group_id}", public=True)
def group_page(group_id):
    return catalog().group(group_id)


@route("/groups/{group_id}/words")
def group_words_page(group_id):
    return catalog().group_words_page(learner(), group_id, http.query(app.current_request))


@route("/groups/{group_id}/study_sessions")
def group_sessions_page(group_id):
    return catalog().group_sessions_page(learner(), group_id, http.query(app.current_request))


@route("/api/groups", public=True)
def list_groups():
    return services().references.list_groups(http.query(app.current_request))


@route("/api/groups/{group_id}", public=True)
def get_group(group_id):
    return services().references.get_group(group_id)


@route("/api/groups/{group_id}/words", public=True)
def list_group_words(group_id):
    return services().references.list_group_words(group_id, http.query(app.current_request))


@route("/api/groups/{group_id}/due-words")
def list_due_words(group_id):
    return services().due_words.for_group(learner(), group_id, http.query(app.current_request))


@route("/api/groups/{group_id}/study-sessions")
def list_group_study_sessions(group_id):
    return services().sessions.list_for_group(learner(), group_id, http.query(app.current_request))


@route("/api/study-activities", public=True)
def list_study_activities():
    return services().references.list_activities()


@route("/api/study-activities/{activity_id}", public=True)
def get_study_activity(activity_id):
    return services().references.get_activity(activity_id)


@route("/api/study-activities/{activity_id}/launch", public=True)
def launch_study_activity(activity_id):
    return services().references.launch(activity_id)


@route("/api/study-activities/{activity_id}/sessions")
def list_activity_sessions(activity_id):
    query = http.query(app.current_request)
    return services().sessions.list_for_activity(learner(), activity_id, query, numbered_by_default=True)


@route("/api/study-activities/{activity_id}/study-sessions")
def list_activity_study_sessions(activity_id):
    query = http.query(app.current_request)
    return services().sessions.list_for_activity(learner(), activity_id, query, numbered_by_default=False)


@app.on_dynamodb_record(stream_arn=SESSIONS_STREAM_PLACEHOLDER, name="aggregates", batch_size=100,
                        starting_position="TRIM_HORIZON")
def count_new_sessions_and_reviews(event):
    global _aggregate_writer
    if _aggregate_writer is None:
        _aggregate_writer = build_aggregate_writer()
    from chalicelib.streams.aggregates import (
        process,  # the consumer's own function: not on the API's cold path
    )

    return process(event.to_dict()["Records"], table_names(), _aggregate_writer)


@app.on_sqs_message(queue=FIT_QUEUE_PLACEHOLDER, name="fitting", batch_size=1)
def fit_learners(event):
    """Fits a learner's parameters (chalicelib.streams.fitting); `make run` drains a local queue into it."""
    global _fitting_worker
    if _fitting_worker is None:
        _fitting_worker = build_fitting_worker()
    with running_as(FITTING):
        return _fitting_worker.handle(event.to_dict())


@app.on_sqs_message(queue=RECOMPUTE_QUEUE_PLACEHOLDER, name="recompute", batch_size=1)
def recompute_memories(event):
    """A learner's memories brought to their scheduler's version (chalicelib.streams.recompute)."""
    global _recomputer
    if _recomputer is None:
        _recomputer = build_recomputer()
    with running_as(RECOMPUTE):
        return _recomputer(event.to_dict())


@app.schedule(Cron(0, 3, "*", "*", "?", "*"), name="fit_due")
def fit_learners_due(event):
    """Nightly (03:00 UTC): a fit queued for every learner due one; `make fit` runs it locally."""
    with running_as(FIT_DUE):
        return {"queued": scheduler().queue_due_fits()}


@app.schedule(Rate(PURGE_EVERY_MINUTES, unit=Rate.MINUTES), name="purge")
def purge_reset_histories(event):
    """Deletes what resets left behind (chalicelib.streams.purge); `make run` calls it from its poller."""
    return {"deleted": build_purger().purge()}


http.refuse_other_methods(app, CORS)
