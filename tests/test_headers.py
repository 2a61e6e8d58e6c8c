"""Whatever Authorization header a request carries, it gets an answer: on a stage without sign-in
the header is ignored (the request is the implicit learner's), with sign-in a bad one is 401.
Every served route but the reset, which would reset the shared servers' histories."""
import re

import pytest
import requests

import app as app_module
from chalicelib.http import REFUSING_VIEW_PREFIX

SESSION = "3f0c5a2e-8d8e-4c43-9f4c-7a1b2c3d4e5f"
VALUES = {"garbage": "abc", "empty": "", "basic": "Basic YW5hOnNlY3JldA==", "bearer": "Bearer x.y.z",
          "three parts": "x.y.z", "oversized": "Bearer " + "A" * 8000}


def served_routes():
    """Every method and path the app serves, its parameters filled in."""
    for path, methods in sorted(app_module.app.routes.items()):
        concrete = re.sub(r"\{(\w*session_id)\}", SESSION, path)
        concrete = re.sub(r"\{\w+\}", "1", concrete)
        for method, entry in sorted(methods.items()):
            if method != "OPTIONS" and not entry.view_name.startswith(REFUSING_VIEW_PREFIX):
                yield method, concrete, entry.authorizer is not None


def call(base_url, method, path, authorization):
    body = {"group_id": 1, "study_activity_id": 1} if method == "POST" else None
    return requests.request(method, f"{base_url}{path}", json=body, timeout=30,
                            headers={"Authorization": authorization})


@pytest.mark.server
@pytest.mark.parametrize("value", VALUES, ids=list(VALUES))
def test_without_sign_in_any_authorization_header_is_ignored(local_server, value):
    answers = {(method, path): call(local_server.base_url, method, path, VALUES[value])
               for method, path, _ in served_routes() if not path.endswith("/reset")}

    refused = {key: r.status_code for key, r in answers.items()
               if r.status_code in (401, 403) or r.status_code >= 500}
    assert refused == {("DELETE", "/api/me"): 403}  # no account to erase without sign-in
    assert all(r.headers["Content-Type"] == "application/json" for r in answers.values())
    assert answers[("GET", "/dashboard/stats")].status_code == 200


@pytest.mark.server
@pytest.mark.parametrize("value", VALUES, ids=list(VALUES))
def test_with_sign_in_a_bad_authorization_header_is_401_on_learner_routes_and_ignored_on_public_ones(
        signed_in_server, value):
    answers = {(method, path, signed): call(signed_in_server.base_url, method, path, VALUES[value])
               for method, path, signed in served_routes() if not path.endswith("/reset")}

    assert {key: r.status_code for key, r in answers.items() if key[2] and r.status_code != 401} == {}
    assert {key: r.status_code for key, r in answers.items() if not key[2] and r.status_code >= 400} == {}
    assert all(r.json()["code"] == "unauthorized" for key, r in answers.items() if key[2])
