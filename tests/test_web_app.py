"""The /app page of clients/web driven in headless Chromium as a person would, against
`AUTH=cognito make run` (its own DynamoDB Local, the local Cognito, the dev server): sign in,
study, sign out, another learner, a token past its expiry."""
import json
import time
import uuid

import pytest
import requests

from tests.test_learners import claims_of, crafted

pytestmark = pytest.mark.server


def wait_for(browser, expression, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        value = browser.evaluate(expression)
        if value:
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


def open_app(browser, server):
    browser.open(f"{server.base_url}/app/")
    wait_for(browser, "document.body.dataset.ready === 'true'")


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
    click(browser, "#start")
    wait_for(browser, "document.querySelectorAll('#study li').length === 5")
    click(browser, "#study li:nth-child(1) button")  # Knew it
    wait_for(browser, "document.querySelectorAll('#study li.answered').length === 1")
    click(browser, "#study li:nth-child(2) button:nth-of-type(2)")  # Missed it
    wait_for(browser, "document.querySelectorAll('#study li.answered').length === 2")
    wait_for(browser, "Boolean(document.querySelector('#sessions li')?.textContent.endsWith('2 answers'))")
    assert browser.evaluate("document.getElementById('message').textContent") == ""

    click(browser, "#signout")
    wait_for(browser, visible("signin"))
    assert text(browser, "signin-error") == "Signed out."
    assert browser.evaluate("fetch('/dashboard/stats').then(r => r.status)") == 401
    open_app(browser, server)
    assert browser.evaluate(visible("signin"))  # nothing kept: the page asks again

    other, secret = new_learner(server, "cara")
    sign_in(browser, other, secret)
    wait_for(browser, visible("home"))
    assert text(browser, "learner-name") == other
    assert browser.evaluate("document.querySelectorAll('#sessions li').length") == 0  # none of ana's
    assert text(browser, "stat-sessions") == "0"


def test_a_token_past_its_expiry_asks_to_sign_in_again_or_is_refreshed_without_a_broken_screen(
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

    outcome = wait_for(browser, """(() => {
        if (document.querySelectorAll('#study li').length === 5) return 'refreshed';
        const signIn = document.getElementById('signin');
        if (!signIn.hidden) return document.getElementById('signin-error').textContent;
        return '';
    })()""")
    assert outcome in ("refreshed", "Your session has ended: please sign in again.")
    assert browser.evaluate("document.getElementById('message').textContent") == ""
    if outcome != "refreshed":
        sign_in(browser, "ben", password(server, "ben"))
        wait_for(browser, visible("home"))
