"""The local Cognito of `AUTH=cognito make run` (devtools.local_auth on moto's server), as its own
process: it keeps its pool, app client and learners in the data folder across restarts (a kill
included) until `make reset-data`, and answers the calls Amplify makes that moto lacks
(RevokeToken at sign-out, GetTokensFromRefreshToken to refresh) as Cognito does, with CORS."""
import json
import os
import subprocess
import sys
import time
import uuid

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws

from devtools.dynamodb_local import free_port
from devtools.local_auth import TokenVerifier, cognito_client
from devtools.local_run import start_local_cognito
from devtools.processes import SetupError, kill_now, stop_processes
from devtools.stage import PROJECT_DIR

pytestmark = pytest.mark.server

ORIGIN = "http://127.0.0.1:5173"  # a frontend's dev server: Amplify's calls are cross-origin


class LocalCognito:
    """devtools.local_auth started on a data folder, as make run starts it."""

    def __init__(self, folder, port):
        self.folder, self.port = folder, port
        self.settings_file = folder / "local-cognito.json"
        self.state_file = folder / "dynamodb" / "cognito.json"
        self.process = None

    def start(self):
        self.process = start_local_cognito(self.port, self.settings_file, self.state_file,
                                           self.folder / "cognito.log")
        self.settings = json.loads(self.settings_file.read_text())
        self.client = cognito_client(self.settings["endpoint"])
        return self

    def stop(self):
        stop_processes(self.process)

    def password(self, name):
        return {u["username"]: u["password"] for u in self.settings["learners"]}[name]

    def sign_in(self, name, password=None):
        answer = self.client.initiate_auth(
            ClientId=self.settings["client_id"], AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": password or self.password(name)})
        return answer["AuthenticationResult"]

    def add_learner(self, name, password):
        pool = self.settings["user_pool_id"]
        self.client.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
        self.client.admin_set_user_password(UserPoolId=pool, Username=name, Password=password, Permanent=True)

    def sub(self, name):
        user = self.client.admin_get_user(UserPoolId=self.settings["user_pool_id"], Username=name)
        return {a["Name"]: a["Value"] for a in user["UserAttributes"]}["sub"]

    def verified(self, id_token):
        return TokenVerifier.for_local_pool(self.settings).claims(id_token)

    def browser_call(self, action, body):
        """The call as Amplify makes it from a page: unsigned JSON, cross-origin."""
        return requests.post(f"{self.settings['endpoint']}/", data=json.dumps(body), timeout=10, headers={
            "Origin": ORIGIN, "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}"})

    def refresh_errors(self, refresh_token):
        """The error codes of both ways to refresh: GetTokensFromRefreshToken (Amplify >= 6.15)
        and InitiateAuth's REFRESH_TOKEN_AUTH; None for a way that refreshes."""
        return self.refresh_error(refresh_token), error_code(
            self.client.initiate_auth, ClientId=self.settings["client_id"], AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token})

    def refresh_error(self, refresh_token):
        """GetTokensFromRefreshToken's error code for this token, or None when it refreshes."""
        try:
            self.client.get_tokens_from_refresh_token(ClientId=self.settings["client_id"],
                                                      RefreshToken=refresh_token)
        except ClientError as error:
            return error.response["Error"]["Code"]
        return None


def error_code(call, **arguments):
    try:
        call(**arguments)
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


@pytest.fixture(scope="module")
def cognito(tmp_path_factory):
    started = LocalCognito(tmp_path_factory.mktemp("local-cognito"), free_port()).start()
    yield started
    started.stop()


def test_pool_client_and_learners_survive_a_restart_even_a_kill_and_reset_data_forgets_them(tmp_path):
    cognito = LocalCognito(tmp_path, free_port()).start()
    try:
        before = cognito.settings
        ana = cognito.sign_in("ana")
        ana_sub = cognito.verified(ana["IdToken"])["sub"]
        cognito.add_learner("cara", "Cara-local-2026!")  # added while it runs, by an admin
        cara_sub = cognito.sub("cara")
        cognito.client.sign_up(ClientId=before["client_id"], Username="dora", Password="Dora-local-2026!")
        cognito.client.admin_confirm_sign_up(UserPoolId=before["user_pool_id"], Username="dora")  # or herself
        dora_sub = cognito.sub("dora")
        revoked = cognito.sign_in("ben")["RefreshToken"]
        cognito.client.revoke_token(ClientId=before["client_id"], Token=revoked)
    finally:
        kill_now(cognito.process)  # no orderly stop: what it answered is on disk already

    cognito.start()
    try:
        assert cognito.settings == before  # a frontend built with them still signs in
        again = cognito.sign_in("ana")  # her password
        assert cognito.verified(again["IdToken"])["sub"] == ana_sub
        assert cognito.verified(ana["IdToken"])["sub"] == ana_sub  # issued before the restart
        assert cognito.refresh_error(ana["RefreshToken"]) is None  # her browser's session too
        assert cognito.client.get_user(AccessToken=ana["AccessToken"])["Username"] == "ana"
        cognito.client.global_sign_out(AccessToken=ana["AccessToken"])
        assert error_code(cognito.client.get_user, AccessToken=ana["AccessToken"]) == "NotAuthorizedException"
        assert cognito.verified(cognito.sign_in("cara", "Cara-local-2026!")["IdToken"])["sub"] == cara_sub
        assert cognito.verified(cognito.sign_in("dora", "Dora-local-2026!")["IdToken"])["sub"] == dora_sub
        assert cognito.refresh_error(revoked) == "NotAuthorizedException"  # revoked stays revoked
        assert error_code(cognito.sign_in, name="cara", password="Not-her-password-1!") == \
            "NotAuthorizedException"
    finally:
        cognito.stop()
    assert not cognito.settings_file.exists()  # what a client needs exists only while it runs

    subprocess.run(["make", "--no-print-directory", "reset-data", f"DATA_DIR={tmp_path / 'dynamodb'}"],
                   cwd=PROJECT_DIR, check=True, capture_output=True)
    cognito.start()
    try:
        assert (cognito.settings["user_pool_id"], cognito.settings["client_id"]) != \
            (before["user_pool_id"], before["client_id"])
        assert cognito.verified(cognito.sign_in("ana")["IdToken"])["sub"] != ana_sub  # a new ana
        assert error_code(cognito.sign_in, name="cara", password="Cara-local-2026!") == \
            "UserNotFoundException"
    finally:
        cognito.stop()


def test_a_demo_learner_erased_comes_back_at_the_next_start_as_a_new_learner(tmp_path):
    cognito = LocalCognito(tmp_path, free_port()).start()
    try:
        ben_sub = cognito.sub("ben")
        cognito.client.admin_delete_user(UserPoolId=cognito.settings["user_pool_id"], Username="ben")
    finally:
        cognito.stop()
    cognito.start()
    try:
        assert cognito.sub("ben") != ben_sub
        assert cognito.sign_in("ben")["IdToken"]
    finally:
        cognito.stop()


def test_a_state_file_it_cannot_read_stops_the_start_with_one_clear_line(tmp_path):
    state = tmp_path / "dynamodb" / "cognito.json"
    state.parent.mkdir()
    state.write_text('{"format": 1, "pools": [{"id": "torn')

    result = subprocess.run(
        [sys.executable, "-m", "devtools.local_auth", "--port", str(free_port()),
         "--out", str(tmp_path / "local-cognito.json"), "--state", str(state)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    assert result.stderr.startswith(f"The local Cognito's state in {state} cannot be read (")
    assert result.stderr.endswith("`make reset-data` forgets it with the data.\n")
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "local-cognito.json").exists()
    with pytest.raises(SetupError, match="local Cognito exited with code 1 at start"):
        start_local_cognito(free_port(), tmp_path / "local-cognito.json", state)


def test_revoke_token_answers_200_with_cors_and_ends_that_refresh_token_and_its_access_tokens(cognito):
    first, second = cognito.sign_in("ana"), cognito.sign_in("ana")
    preflight = requests.options(f"{cognito.settings['endpoint']}/", timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN

    revoked = cognito.browser_call("RevokeToken", {"ClientId": cognito.settings["client_id"],
                                                   "Token": first["RefreshToken"]})

    assert (revoked.status_code, revoked.json()) == (200, {})
    assert revoked.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert cognito.refresh_error(first["RefreshToken"]) == "NotAuthorizedException"
    assert error_code(cognito.client.initiate_auth, ClientId=cognito.settings["client_id"],
                      AuthFlow="REFRESH_TOKEN_AUTH",
                      AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]}) == "NotAuthorizedException"
    assert error_code(cognito.client.get_user, AccessToken=first["AccessToken"]) == "NotAuthorizedException"
    # only that sign-in's: her other session goes on
    assert cognito.refresh_error(second["RefreshToken"]) is None
    assert cognito.client.get_user(AccessToken=second["AccessToken"])["Username"] == "ana"
    again = cognito.browser_call("RevokeToken", {"ClientId": cognito.settings["client_id"],
                                                 "Token": first["RefreshToken"]})
    assert (again.status_code, again.json()) == (200, {})  # already revoked: nothing to do


def test_revoke_token_of_an_unknown_client_is_an_error_with_cors(cognito):
    answer = cognito.browser_call("RevokeToken", {"ClientId": "nosuchclient", "Token": "x"})

    assert answer.status_code == 400
    assert answer.json()["__type"] == "ResourceNotFoundException"
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_get_tokens_from_refresh_token_gives_fresh_tokens_of_the_same_learner_with_cors(cognito):
    signed_in = cognito.sign_in("ben")

    answer = cognito.browser_call("GetTokensFromRefreshToken", {"ClientId": cognito.settings["client_id"],
                                                                "RefreshToken": signed_in["RefreshToken"]})

    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    result = answer.json()["AuthenticationResult"]
    assert (result["TokenType"], result["ExpiresIn"]) == ("Bearer", 3600)
    claims = cognito.verified(result["IdToken"])
    assert (claims["sub"], claims["aud"]) == (cognito.verified(signed_in["IdToken"])["sub"],
                                              cognito.settings["client_id"])
    assert cognito.client.get_user(AccessToken=result["AccessToken"])["Username"] == "ben"


@pytest.mark.parametrize("case", ["unknown", "erased learner"])
def test_get_tokens_from_refresh_token_refuses_a_token_that_signs_nobody_in(cognito, case):
    if case == "unknown":
        token = "not-a-refresh-token"
    else:
        name = f"erased-{uuid.uuid4().hex[:8]}"
        cognito.add_learner(name, "Erased-local-2026!")
        token = cognito.sign_in(name, "Erased-local-2026!")["RefreshToken"]
        cognito.client.admin_delete_user(UserPoolId=cognito.settings["user_pool_id"], Username=name)

    answer = cognito.browser_call("GetTokensFromRefreshToken", {"ClientId": cognito.settings["client_id"],
                                                                "RefreshToken": token})

    assert answer.status_code == 400
    assert answer.json()["__type"] == "NotAuthorizedException"
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN


NOT_AUTHORIZED = ("NotAuthorizedException", "NotAuthorizedException")


def test_an_erased_learners_tokens_never_work_again_not_for_a_new_learner_of_that_name(tmp_path):
    cognito = LocalCognito(tmp_path, free_port()).start()
    pool = cognito.settings["user_pool_id"]
    try:
        cognito.add_learner("cara", "Cara-local-2026!")
        cara = cognito.sign_in("cara", "Cara-local-2026!")
        cognito.client.admin_delete_user(UserPoolId=pool, Username="cara")
        assert cognito.refresh_errors(cara["RefreshToken"]) == NOT_AUTHORIZED
        cognito.add_learner("cara", "Cara-again-2026!")  # someone else signs up with her name
        assert cognito.refresh_errors(cara["RefreshToken"]) == NOT_AUTHORIZED
        assert error_code(cognito.client.get_user, AccessToken=cara["AccessToken"]) == NOT_AUTHORIZED[0]
        assert cognito.refresh_errors(cognito.sign_in("cara", "Cara-again-2026!")["RefreshToken"]) == \
            (None, None)  # the new cara's own

        ben, ben_sub = cognito.sign_in("ben"), cognito.sub("ben")
        cognito.client.admin_delete_user(UserPoolId=pool, Username="ben")  # as DELETE /api/me's purge
        assert cognito.refresh_errors(ben["RefreshToken"]) == NOT_AUTHORIZED
    finally:
        cognito.stop()
    saved = cognito.state_file.read_text()
    assert ben["RefreshToken"] not in saved and ben["AccessToken"] not in saved
    assert cara["RefreshToken"] not in saved and cara["AccessToken"] not in saved

    cognito.start()  # ben comes back, a new learner
    try:
        assert cognito.sub("ben") != ben_sub
        assert cognito.refresh_errors(ben["RefreshToken"]) == NOT_AUTHORIZED
        assert error_code(cognito.client.get_user, AccessToken=ben["AccessToken"]) == "NotAuthorizedException"
        assert cognito.refresh_errors(cara["RefreshToken"]) == NOT_AUTHORIZED
    finally:
        cognito.stop()


def test_delete_user_deletes_the_signed_in_learner_and_her_tokens_with_cors(cognito):
    name = f"leaving-{uuid.uuid4().hex[:8]}"
    cognito.add_learner(name, "Leaving-local-2026!")
    signed_in = cognito.sign_in(name, "Leaving-local-2026!")

    answer = cognito.browser_call("DeleteUser", {"AccessToken": signed_in["AccessToken"]})

    assert (answer.status_code, answer.json()) == (200, {})
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert error_code(cognito.client.admin_get_user, UserPoolId=cognito.settings["user_pool_id"],
                      Username=name) == "UserNotFoundException"
    cognito.add_learner(name, "Leaving-again-2026!")
    assert cognito.refresh_errors(signed_in["RefreshToken"]) == NOT_AUTHORIZED
    again = cognito.browser_call("DeleteUser", {"AccessToken": signed_in["AccessToken"]})
    assert (again.status_code, again.json()["__type"]) == (400, "NotAuthorizedException")


def test_the_saved_state_keeps_an_access_token_until_it_expires():
    from devtools.cognito_state import snapshot
    from devtools.local_auth import REGION, create_pool, sign_in

    with mock_aws():
        client = boto3.client("cognito-idp", region_name=REGION)
        settings = create_pool(client)
        access_token = client.initiate_auth(
            ClientId=settings["client_id"], AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "ana", "PASSWORD": "Ana-local-2026!"})["AuthenticationResult"][
                "AccessToken"]
        sign_in(client, settings["client_id"], "ben", "Ben-local-2026!")

        def saved(now):
            [pool] = [p for p in snapshot(now)["pools"] if p["id"] == settings["user_pool_id"]]
            return {token: issued[1] for token, issued in pool["access_tokens"].items()}

        assert saved(time.time())[access_token] == "ana"
        assert sorted(saved(time.time()).values()) == ["ana", "ben"]
        assert saved(time.time() + 3601) == {}  # an hour on, as Cognito's access tokens


@pytest.mark.parametrize("tool", ["local_token", "frontend_config"])
def test_a_settings_file_left_by_a_killed_run_is_no_local_cognito(tmp_path, tool):
    cognito = LocalCognito(tmp_path, free_port()).start()
    kill_now(cognito.process)  # no orderly stop: the settings file stays
    assert cognito.settings_file.exists()

    if tool == "local_token":
        result = subprocess.run([sys.executable, "-m", "devtools.local_token", "ana", "--settings",
                                 str(cognito.settings_file)], cwd=PROJECT_DIR, capture_output=True, text=True,
                                timeout=60)
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == (f"No local Cognito: none answers for {cognito.settings_file} (left behind "
                                 "by a run that was killed); start AUTH=cognito make run first.\n")
    else:
        result = subprocess.run(["make", "--no-print-directory", "frontend-config", "STAGE=local"],
                                cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120,
                                env={**os.environ, "DATA_DIR": str(tmp_path / "dynamodb"), "PORT": "9123"})
        assert (result.returncode, result.stderr) == (0, "")
        assert result.stdout == ("# make run: no sign-in (start AUTH=cognito make run for the local "
                                 "Cognito's settings)\nVITE_API_BASE_URL=http://127.0.0.1:9123\n")


def test_local_token_and_frontend_config_name_a_running_local_cognito(cognito):
    from devtools.frontend_config import local

    result = subprocess.run([sys.executable, "-m", "devtools.local_token", "ben", "--settings",
                             str(cognito.settings_file)], cwd=PROJECT_DIR, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert cognito.verified(result.stdout.strip())["cognito:username"] == "ben"
    assert local(8000, cognito.settings_file) == {
        "VITE_API_BASE_URL": "http://127.0.0.1:8000", "VITE_AWS_REGION": "us-east-1",
        "VITE_USER_POOL_ID": cognito.settings["user_pool_id"],
        "VITE_USER_POOL_CLIENT_ID": cognito.settings["client_id"],
        "VITE_USER_POOL_ENDPOINT": cognito.settings["endpoint"]}
