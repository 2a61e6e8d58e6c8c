"""The /app page of clients/web driven in headless Chromium as a person would, against
`AUTH=cognito make run` (its own DynamoDB Local, the local Cognito, the dev server): sign in,
study, sign out, another learner, a token past its expiry; over each whole session no request
fails and the console shows no error but those the test provokes."""
import json
import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

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
    assert browser.failed_requests() == [cognito_call(server, "InitiateAuth", 400),
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

    wait_for(browser, "document.querySelectorAll('#study li').length === 5")
    assert browser.evaluate("document.getElementById('message').textContent") == ""
    assert cognito_call(server, "GetTokensFromRefreshToken", 200) in browser.requests()
    refreshed = claims_of(browser.evaluate(f"localStorage.getItem({json.dumps(key)})"))
    assert refreshed["sub"] == claims_of(token)["sub"] and refreshed["exp"] > time.time()

    click(browser, "#signout")
    wait_for(browser, visible("signin"))
    assert cognito_call(server, "RevokeToken", 200) in browser.requests()
    assert browser.failed_requests() == []
    assert browser.console_errors() == []
