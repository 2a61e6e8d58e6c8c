"""The /app page of clients/web driven in headless Chromium as a person would, against
`AUTH=cognito make run` (its own DynamoDB Local, the local Cognito, the dev server): sign in,
study what is due one card at a time, sign out, another learner, a token past its expiry, a
reload in the middle of an answer, the learner's scheduler (the defaults, or parameters fitted by
the fit the API runs on request) and its desired retention; over each whole session no request
fails and the console shows no error but those the test provokes."""
import json
import random
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from botocore.exceptions import ClientError

from tests.helpers import scan
from tests.test_learners import claims_of, crafted

pytestmark = pytest.mark.server


def wait_for(browser, expression, seconds=20, check=bool):
    deadline = time.monotonic() + seconds
    while True:
        value = browser.evaluate(expression)
        if check(value):
            return value
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.1)


def text(browser, element_id):
    return browser.evaluate(f"document.getElementById({json.dumps(element_id)}).textContent")


def visible(element_id):
    return f"!document.getElementById({json.dumps(element_id)}).hidden"


def sign_in(browser, username, password):
    browser.evaluate(f"""(() => {{
        document.getElementById('username').value = {json.dumps(username)};
        document.getElementById('password').value = {json.dumps(password)};
        document.getElementById('signin-form').requestSubmit(); return true; }})()""")


def click(browser, selector):
    browser.evaluate(f"(document.querySelector({json.dumps(selector)}).click(), true)")


def password(server, name):
    return {u["username"]: u["password"] for u in server.settings["learners"]}[name]


def new_learner(server, prefix):
    """A learner of the local pool with no history: the server is shared with other tests."""
    from devtools.local_auth import cognito_client

    username, secret = f"{prefix}-{uuid.uuid4().hex[:8]}", "Fresh-local-2026!"
    pool = cognito_client(server.settings["endpoint"])
    pool.admin_create_user(UserPoolId=server.settings["user_pool_id"], Username=username,
                           MessageAction="SUPPRESS")
    pool.admin_set_user_password(UserPoolId=server.settings["user_pool_id"], Username=username,
                                 Password=secret, Permanent=True)
    return username, secret


def cognito_call(server, action, status):
    """A request of the page to the local Cognito, as Browser.requests lists it."""
    return ("POST", f"{server.settings['endpoint']}/", f"AWSCognitoIdentityProviderService.{action}", status)


def refresh_token(browser):
    [token] = browser.evaluate(
        "Object.keys(localStorage).filter(k => k.endsWith('.refreshToken')).map(k => localStorage[k])")
    return token


def refused_refresh(server, token):
    """What the local Cognito answers a refresh with ``token``: its error code, or None."""
    from devtools.local_auth import cognito_client

    try:
        cognito_client(server.settings["endpoint"]).initiate_auth(
            ClientId=server.settings["client_id"], AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": token})
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


def open_app(browser, server):
    browser.open(f"{server.base_url}/app/")
    wait_for(browser, "document.body.dataset.ready === 'true'")


SCHEDULER = "/api/me/scheduler"


def failed_requests(browser, server):
    """The requests that failed, once every request the page made has its outcome (one still on
    its way has none)."""
    wait_for(browser, "true", check=lambda _: all(request[-1] is not None for request in browser.requests()))
    return browser.failed_requests()


def learner_token(server, username, secret):
    from devtools.local_auth import cognito_client
    from devtools.local_auth import sign_in as cognito_sign_in

    return cognito_sign_in(cognito_client(server.settings["endpoint"]), server.settings["client_id"],
                           username, secret)


def call(server, token, method, path, **kwargs):
    return requests.request(method, f"{server.base_url}{path}", headers={"Authorization": token},
                            timeout=10, **kwargs)


def due_now(server, token, group_id=1):
    """How many of the group's words the API says are due now (the seed groups have 10 words)."""
    words = call(server, token, "GET", f"/api/groups/{group_id}/due-words?limit=100").json()["items"]
    return sum(word["state"] != "new" for word in words)


def only_session(server, token):
    [session] = call(server, token, "GET", "/api/study-sessions?limit=5").json()["items"]
    return session["id"]


def stored_reviews(server, session_id):
    """(word id, correct) of each review stored for the session, by word."""
    return sorted((review["word_id"], review["correct"]) for review in scan(server, "word_reviews")
                  if review["study_session_id"] == session_id)


def card_shows(kanji):
    """The card waits for an answer to the word ``kanji``, its meaning not yet shown."""
    return (f"{visible('card')} && {visible('reveal')} && "
            f"document.getElementById('card-word').textContent === {json.dumps(kanji)}")


def answer_card(browser, knew):
    """Shows the meaning, answers, and waits for the next card or the round's summary; the word."""
    wait_for(browser, f"{visible('card')} && {visible('reveal')}")
    word = text(browser, "card-word")
    click(browser, "#reveal")
    click(browser, "#knew" if knew else "#missed")
    wait_for(browser, f"({visible('card')} && {visible('reveal')}) || {visible('summary')}")
    return word


def test_a_learner_signs_in_studies_and_signs_out_and_another_sees_nothing_of_theirs(
        browser, signed_in_server):
    server = signed_in_server
    open_app(browser, server)
    assert browser.evaluate(visible("signin")) and not browser.evaluate(visible("home"))

    sign_in(browser, "ana", "not-her-password")
    refused = wait_for(browser, "document.getElementById('signin-error').textContent")
    assert refused == "Wrong username or password."
    assert not browser.evaluate(visible("home"))

    sign_in(browser, "ana", password(server, "ana"))
    wait_for(browser, visible("home"))
    assert text(browser, "learner-name") == "ana"
    assert browser.evaluate("document.getElementById('group').options.length") == 2
    # A round is the session's next five words (fewer where other tests left ana fewer due or new).
    ana = {"Authorization": server.token("ana")}
    words = len(requests.get(f"{server.base_url}/api/groups/1/due-words?limit=5", headers=ana,
                             timeout=10).json()["items"])
    assert words >= 2
    click(browser, "#start")
    answered = [answer_card(browser, knew=number != 1) for number in range(words)]  # the second one missed
    known = set(answered) - {answered[1]}
    wait_for(browser, visible("summary"))
    assert text(browser, "round-result") == f"You knew {words - 1} of {words} words."
    assert text(browser, "session-result") == f"This session: {words - 1} known, 1 missed."
    newest = "document.querySelector('#sessions li')?.textContent"
    wait_for(browser, f"Boolean({newest}?.endsWith('{words} answers'))")
    # The next words: what the API has next for ana, the words just known no longer among them.
    upcoming = requests.get(f"{server.base_url}/api/groups/1/due-words?limit=5", headers=ana,
                            timeout=10).json()["items"]
    assert upcoming and not known & {word["kanji"] for word in upcoming}
    click(browser, "#more")
    wait_for(browser, card_shows(upcoming[0]["kanji"]))
    assert text(browser, "card-progress").startswith(f"Word 1 of {len(upcoming)} · ")
    assert browser.evaluate("document.getElementById('message').textContent") == ""
    kept = refresh_token(browser)
    assert refused_refresh(server, kept) is None

    click(browser, "#signout")
    wait_for(browser, visible("signin"))
    assert text(browser, "signin-error") == "Signed out."
    assert cognito_call(server, "RevokeToken", 200) in browser.requests()
    assert refused_refresh(server, kept) == "NotAuthorizedException"  # revoked, as by AWS
    assert browser.evaluate("fetch('/dashboard/stats').then(r => r.status)") == 401
    open_app(browser, server)
    assert browser.evaluate(visible("signin"))  # nothing kept: the page asks again

    other, secret = new_learner(server, "cara")
    sign_in(browser, other, secret)
    wait_for(browser, visible("home"))
    assert text(browser, "learner-name") == other
    assert browser.evaluate("document.querySelectorAll('#sessions li').length") == 0  # none of ana's
    assert text(browser, "stat-sessions") == "0"
    click(browser, "#signout")
    wait_for(browser, visible("signin"))

    # Nothing failed but what the test provoked: the wrong password, the call after sign-out.
    assert failed_requests(browser, server) == [cognito_call(server, "InitiateAuth", 400),
                                                ("GET", f"{server.base_url}/dashboard/stats", "", 401)]
    assert browser.console_errors() == [
        ("network", "Failed to load resource: the server responded with a status of 400 (BAD REQUEST) "
                    f"{server.settings['endpoint']}/"),
        ("network", "Failed to load resource: the server responded with a status of 401 (Unauthorized) "
                    f"{server.base_url}/dashboard/stats")]


def test_a_token_past_its_expiry_is_refreshed_without_a_word_and_sign_out_ends_the_session_cleanly(
        browser, signed_in_server):
    server = signed_in_server
    open_app(browser, server)
    sign_in(browser, "ben", password(server, "ben"))
    wait_for(browser, visible("home"))
    stored = browser.evaluate(
        "Object.keys(localStorage).filter(k => k.endsWith('.idToken')).map(k => [k, localStorage[k]])")
    [[key, token]] = stored
    expired = crafted(server, **{**claims_of(token), "exp": int(time.time()) - 60})
    browser.evaluate(f"(localStorage.setItem({json.dumps(key)}, {json.dumps(expired)}), true)")
    assert requests.get(f"{server.base_url}/dashboard/stats", headers={"Authorization": expired},
                        timeout=10).status_code == 401

    click(browser, "#start")

    wait_for(browser, f"{visible('card')} && {visible('reveal')}")
    assert browser.evaluate("document.getElementById('message').textContent") == ""
    assert cognito_call(server, "GetTokensFromRefreshToken", 200) in browser.requests()
    refreshed = claims_of(browser.evaluate(f"localStorage.getItem({json.dumps(key)})"))
    assert refreshed["sub"] == claims_of(token)["sub"] and refreshed["exp"] > time.time()

    click(browser, "#signout")
    wait_for(browser, visible("signin"))
    assert cognito_call(server, "RevokeToken", 200) in browser.requests()
    assert failed_requests(browser, server) == []
    assert browser.console_errors() == []


def test_the_due_word_comes_first_its_meaning_hidden_until_shown_and_each_answer_is_a_review(
        browser, signed_in_server):
    server = signed_in_server
    username, secret = new_learner(server, "dana")
    token = learner_token(server, username, secret)
    # Word 7 answered two days ago is due now (its next review was 10 minutes later); 1-6, 8-10 are new.
    earlier = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 2 * 86400))
    arranged = call(server, token, "POST", "/api/study-sessions",
                    json={"group_id": 1, "study_activity_id": 1, "created_at": earlier}).json()
    reviewed = call(server, token, "POST", f"/api/study-sessions/{arranged['id']}/review",
                    json={"word_id": 7, "correct": True, "reviewed_at": earlier})
    assert reviewed.status_code == 201
    assert due_now(server, token) == 1

    open_app(browser, server)
    sign_in(browser, username, secret)
    wait_for(browser, visible("due"))
    assert (text(browser, "due-count"), text(browser, "due-group")) == ("1", "Core Verbs")  # as the API says
    assert browser.evaluate(visible("scheduler"))

    click(browser, "#start")
    wait_for(browser, card_shows("話す"))  # word 7, the due one, before the new word 1
    assert text(browser, "card-romaji") == "hanasu"
    assert text(browser, "card-progress") == "Word 1 of 5 · due"
    assert not browser.evaluate("document.body.textContent.includes('to speak')")  # not even hidden
    session = [s["id"] for s in call(server, token, "GET", "/api/study-sessions?limit=5").json()["items"]
               if s["id"] != arranged["id"]][0]

    # By keyboard alone: Enter on the focused "Show meaning", then on the focused "I knew it".
    assert browser.evaluate("document.activeElement.id") == "reveal"
    browser.press_enter()
    wait_for(browser, "document.body.innerText.includes('to speak')")
    assert browser.evaluate("document.activeElement.id") == "knew"
    browser.press_enter()
    wait_for(browser, card_shows("食べる"))  # word 1, new
    assert text(browser, "card-progress") == "Word 2 of 5 · new"
    assert not browser.evaluate("document.body.textContent.includes('to speak')")
    assert stored_reviews(server, session) == [(7, True)]
    wait_for(browser, "document.getElementById('due-count').textContent === '0'")
    assert due_now(server, token) == 0  # the API no longer has word 7 due

    assert not browser.evaluate("document.body.innerText.includes('to eat')")
    click(browser, "#reveal")
    assert browser.evaluate("document.body.innerText.includes('to eat')")
    click(browser, "#missed")
    wait_for(browser, card_shows("飲む"))
    assert stored_reviews(server, session) == [(1, False), (7, True)]
    assert failed_requests(browser, server) == []
    assert browser.console_errors() == []


def test_a_reload_neither_loses_nor_doubles_an_answer(browser, signed_in_server):
    server = signed_in_server
    username, secret = new_learner(server, "eli")
    token = learner_token(server, username, secret)
    open_app(browser, server)
    sign_in(browser, username, secret)
    wait_for(browser, visible("home"))
    click(browser, "#start")
    wait_for(browser, card_shows("食べる"))
    answer_card(browser, knew=True)
    session = only_session(server, token)
    assert stored_reviews(server, session) == [(1, True)]

    # A reload between answers: the session goes on at the next word; nothing sent again.
    open_app(browser, server)
    wait_for(browser, card_shows("飲む"))
    assert only_session(server, token) == session
    assert stored_reviews(server, session) == [(1, True)]

    # The answer stored but its 201 lost on the way: the page says so; reloaded, it sends the answer
    # again with its Idempotency-Key, and the API keeps the one review.
    browser.hold_requests("*/review", "Response")
    click(browser, "#reveal")
    click(browser, "#knew")
    held, url = browser.held_request()
    assert url == f"{server.base_url}/api/study-sessions/{session}/review"
    browser.fail_held(held)
    wait_for(browser, visible("resend"))
    assert text(browser, "message") == ("Your answer was not confirmed: send it again "
                                        "(it is stored once either way).")
    assert stored_reviews(server, session) == [(1, True), (2, True)]
    browser.stop_holding()
    open_app(browser, server)
    wait_for(browser, card_shows("行く"))
    assert stored_reviews(server, session) == [(1, True), (2, True)]

    # The answer never sent (the connection failed before it): reloaded, the page sends it.
    browser.hold_requests("*/review", "Request")
    click(browser, "#reveal")
    click(browser, "#missed")
    held, _ = browser.held_request()
    browser.fail_held(held)
    wait_for(browser, visible("resend"))
    assert stored_reviews(server, session) == [(1, True), (2, True)]
    browser.stop_holding()
    open_app(browser, server)
    wait_for(browser, card_shows("来る"))
    assert stored_reviews(server, session) == [(1, True), (2, True), (3, False)]
    assert only_session(server, token) == session

    # The session gone (the history reset in another tab): a reload says so once, then forgets it.
    assert call(server, token, "POST", "/api/study-sessions/reset").status_code == 200
    open_app(browser, server)
    wait_for(browser, "document.getElementById('message').textContent")
    assert text(browser, "message") == "This study session does not exist."
    assert not browser.evaluate(visible("card")) and browser.evaluate(visible("home"))
    open_app(browser, server)
    assert text(browser, "message") == "" and not browser.evaluate(visible("card"))

    review = ("POST", f"{server.base_url}/api/study-sessions/{session}/review", "")
    next_words = f"{server.base_url}/api/study-sessions/{session}/next-words?limit=5"
    assert failed_requests(browser, server) == [(*review, "net::ERR_CONNECTION_RESET")] * 2 + [
        ("GET", next_words, "", 404)]
    assert browser.console_errors() == [
        ("network", f"Failed to load resource: net::ERR_CONNECTION_RESET {review[1]}")] * 2 + [
        ("network", "Failed to load resource: the server responded with a status of 404 (Not Found) "
                    f"{next_words}")]


def type_into(browser, element_id, value):
    """Focuses the field, empties it and types ``value`` as a keyboard does."""
    browser.evaluate(f"(document.getElementById({json.dumps(element_id)}).focus(), "
                     f"document.getElementById({json.dumps(element_id)}).value = '', true)")
    browser.send("Input.insertText", text=value)


DEFAULTS_SENTENCE = ("The default parameters are in use. Parameters of your own are fitted once you have "
                     "made enough reviews, if they predict your answers better.")


def test_the_scheduler_says_the_defaults_are_in_use_and_the_desired_retention_is_what_the_api_stores(
        browser, signed_in_server):
    server = signed_in_server
    username, secret = new_learner(server, "fay")
    token = learner_token(server, username, secret)
    open_app(browser, server)
    sign_in(browser, username, secret)
    wait_for(browser, f"{visible('home')} && {visible('scheduler')}")
    assert text(browser, "scheduler-source") == "Default parameters: FSRS-6's, the same for every learner."
    assert text(browser, "scheduler-summary") == DEFAULTS_SENTENCE  # no figure: the API has none yet
    assert not browser.evaluate(visible("scheduler-evaluation")) and text(browser, "scheduler-scored") == ""
    assert browser.evaluate("document.getElementById('retention').value") == "0.90"
    field = "document.getElementById('retention')"
    assert browser.evaluate(f"{field}.labels[0].textContent") == "Desired retention"
    assert browser.evaluate(f"{field}.getAttribute('aria-describedby')") == "retention-help"
    assert ("It changes when words fall due from your next review on (and what is due now, within seconds)."
            in " ".join(text(browser, "retention-help").split()))
    live = "document.getElementById('retention-result').getAttribute('aria-live')"
    assert browser.evaluate(live) == "polite"  # the save's result is read out

    # By keyboard: 0.85 typed in the field, Enter; the API stores it and the page shows what it stored.
    type_into(browser, "retention", "0.85")
    browser.press_enter()
    wait_for(browser, "document.getElementById('retention-result').textContent")
    assert text(browser, "retention-result") == "Saved: desired retention 0.85."
    stored = call(server, token, "GET", SCHEDULER).json()
    assert (stored["desired_retention"], stored["version"], stored["source"]) == (0.85, 1, "default")
    open_app(browser, server)
    wait_for(browser, f"{visible('home')} && {visible('scheduler')}")
    assert browser.evaluate("document.getElementById('retention').value") == "0.85"
    assert text(browser, "retention-result") == ""

    # A value outside the range goes to the API, which refuses it: its sentence is shown, nothing stored.
    type_into(browser, "retention", "0.5")
    click(browser, "#retention-save")
    wait_for(browser, "document.getElementById('retention-result').textContent")
    refusal = call(server, token, "PUT", SCHEDULER, json={"desired_retention": 0.5})
    assert refusal.status_code == 400
    assert text(browser, "retention-result") == refusal.json()["error"]
    assert "0.7 to 0.97" in refusal.json()["error"]
    assert browser.evaluate("document.activeElement.id") == "retention"
    assert text(browser, "message") == ""
    stored = call(server, token, "GET", SCHEDULER).json()
    assert (stored["desired_retention"], stored["version"]) == (0.85, 1)

    url = f"{server.base_url}{SCHEDULER}"
    assert failed_requests(browser, server) == [("PUT", url, "", 400)]
    assert browser.console_errors() == [
        ("network", f"Failed to load resource: the server responded with a status of 400 (Bad Request) "
                    f"{url}")]


def forgetful_reviews(reviews_per_word=55, seed=7):
    """The answers of a learner who forgets much faster than FSRS-6's defaults say (low initial
    stabilities, slow growth) to the 20 words of groups 1 and 2: each word known the first time and
    the next day (so that fsrs-rs keeps the words' first two reviews: it drops a first rating and
    interval fewer than 20 words share), then reviewed 7, 14 or 30 days after its last review:
    (word id, reviewed_at, correct), in time order. A fit of them is adopted (log loss 0.490
    against the defaults' 0.525, calibration error 7.2 % against 13.5 %)."""
    import fsrs

    from chalicelib.core.scheduling import DEFAULT_PARAMETERS

    parameters = list(DEFAULT_PARAMETERS)
    parameters[0:4], parameters[8] = [0.05, 0.1, 0.2, 0.5], 0.5
    truth, rng = fsrs.Scheduler(parameters=parameters, enable_fuzzing=False), random.Random(seed)
    reviews = []
    for word in range(1, 21):
        at, memory = datetime(2020, 1, 1, 9, word, tzinfo=UTC), fsrs.Card()
        for number in range(reviews_per_word):
            correct = number == 0 or rng.random() < truth.get_card_retrievability(memory, at)
            reviews.append((word, at, correct))
            memory, _ = truth.review_card(memory, fsrs.Rating.Good if correct else fsrs.Rating.Again, at)
            at += timedelta(days=1 if number == 0 else rng.choice((7, 14, 30)), minutes=rng.randrange(60))
    return sorted(reviews, key=lambda review: review[1])


def fitted_learner(server, prefix):
    """A new learner fitted the way the product fits one: their 1,100 answers (forgetful_reviews)
    sent through the API, counted by the poller's consumer, a fit asked for with POST
    /api/me/scheduler/fit and run by the poller on the local fit queue, and adopted; their name,
    password, ID token and GET /api/me/scheduler."""
    username, secret = new_learner(server, prefix)
    token = learner_token(server, username, secret)
    sessions = {group: call(server, token, "POST", "/api/study-sessions", json={
        "group_id": group, "study_activity_id": 1, "created_at": "2020-01-01T08:00:00Z"}).json()["id"]
                for group in (1, 2)}
    answers = forgetful_reviews()
    for start in range(0, len(answers), 100):
        for group, session in sessions.items():
            round_ = [{"word_id": word, "is_correct": correct,
                       "reviewed_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
                      for word, at, correct in answers[start:start + 100] if (word - 1) // 10 + 1 == group]
            answer = call(server, token, "POST", f"/study_sessions/{session}/review",
                          json={"reviews": round_})
            assert answer.status_code == 201, answer.text
    deadline = time.monotonic() + 120
    while (asked := call(server, token, "POST", f"{SCHEDULER}/fit")).status_code == 409:
        assert time.monotonic() < deadline, asked.text  # the consumer has not counted 1,000 yet
        time.sleep(0.2)
    assert asked.status_code == 202, asked.text
    while (scheduler := call(server, token, "GET", SCHEDULER).json())["fit_requested_at"]:
        assert time.monotonic() < deadline, scheduler
        time.sleep(0.2)
    assert scheduler["last_fit"]["reason"] == "better_on_recent_reviews", scheduler["last_fit"]
    return username, secret, token, scheduler


def test_a_fitted_scheduler_shows_its_fit_its_summary_and_its_evaluation_beside_the_defaults(
        browser, signed_in_server):
    server = signed_in_server
    username, secret, token, scheduler = fitted_learner(server, "gus")
    evaluation = scheduler["evaluation"]
    assert scheduler["source"] == "fitted" and scheduler["reviews_used"] >= 1000
    assert all(isinstance(evaluation[field], (int, float)) for field in (
        "log_loss", "rmse_bins", "default_log_loss", "default_rmse_bins", "reviews"))
    assert re.fullmatch(r"predicted \d+ % recall, remembered \d+ %", scheduler["summary"])

    open_app(browser, server)
    sign_in(browser, username, secret)
    wait_for(browser, f"{visible('home')} && {visible('scheduler')}")
    assert call(server, token, "GET", SCHEDULER).json() == scheduler  # what the page was given
    assert text(browser, "scheduler-source") == (
        f"Fitted to your own reviews (from {scheduler['reviews_used']:,} reviews, "
        f"on {scheduler['fitted_at'][:10]}).")
    assert text(browser, "scheduler-summary") == (
        f"On your most recent reviews, held out of the fit: {scheduler['summary']}.")
    assert browser.evaluate(visible("scheduler-evaluation"))
    assert browser.evaluate("""[...document.querySelectorAll('#scheduler-evaluation tr')].map(
        row => [...row.cells].map(cell => cell.textContent))""") == [
        ["", "Yours", "Defaults"],
        ["Log loss (lower is better)", f"{evaluation['log_loss']:.3f}",
         f"{evaluation['default_log_loss']:.3f}"],
        ["Calibration error (lower is better)", f"{100 * evaluation['rmse_bins']:.1f} %",
         f"{100 * evaluation['default_rmse_bins']:.1f} %"]]
    assert text(browser, "scheduler-scored") == f"Scored on {evaluation['reviews']:,} reviews."
    assert browser.evaluate("document.getElementById('retention').value") == "0.90"
    assert failed_requests(browser, server) == []
    assert browser.console_errors() == []
