"""Learners who sign in with Cognito own their data: every route is per learner, another
learner's ids answer 404 as unknown ones do, and the local server verifies tokens as API
Gateway's Cognito authorizer does (signature, expiry, issuer, client, use)."""
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from moto import mock_aws
from moto.utilities.utils import load_resource

import app as app_module
from chalicelib.storage.dynamo import from_item
from devtools.local_auth import create_pool, issuer, sign_in
from tests.helpers import assert_error

ANA, BEN = ("ana", "Ana-test-2026!"), ("ben", "Ben-test-2026!")
NEW = {"group_id": 1, "study_activity_id": 1}
# moto signs every pool's tokens with this key pair
POOL_PRIVATE_KEY = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
POOL_PUBLIC_KEYS = KeySet.import_key_set(load_resource("cognitoidp/resources/jwks-public.json"))


def claims_of(token: str) -> dict:
    return jwt.decode(token, POOL_PUBLIC_KEYS).claims


@pytest.fixture(scope="module")
def tokens():
    """ID tokens of two learners of one pool, from moto's Cognito (chalice's test client decodes
    them without checking, as API Gateway would pass on their claims once verified)."""
    with mock_aws():
        client = boto3.client("cognito-idp", region_name="us-east-1")
        pool = create_pool(client, [ANA, BEN])
        return {name: sign_in(client, pool["client_id"], name, password) for name, password in (ANA, BEN)}


@pytest.fixture
def signed_in(api, tokens, monkeypatch):
    # a stage with sign-in (the test client puts the local stage's AUTH_MODE back for each request)
    monkeypatch.setattr(app_module, "auth_mode", lambda: "cognito")

    class Learner:
        def __init__(self, name):
            self.headers = {"Authorization": tokens[name]}

        def post(self, body, path="/api/study-sessions", headers=None):
            return api.post(body, headers={**self.headers, **(headers or {})}, path=path)

        def get(self, path):
            return api.get(path, headers=self.headers)

        def create(self, group_id=1):
            response = self.post({"group_id": group_id, "study_activity_id": 1})
            assert response.status_code == 201, response.body
            return response.json_body["id"]

        def review(self, session_id, word_id=1, correct=True):
            return self.post({"word_id": word_id, "correct": correct},
                             path=f"/api/study-sessions/{session_id}/review")

    return Learner("ana"), Learner("ben")


@pytest.fixture
def histories(api, signed_in):
    """Ana: two sessions (groups 1 and 2) with three reviews; Ben: one session with one review."""
    ana, ben = signed_in
    ana_ids = [ana.create(1), ana.create(2)]
    for word, correct in ((1, True), (2, True), (1, False)):
        assert ana.review(ana_ids[0], word, correct).status_code == 201
    ben_id = ben.create(1)
    assert ben.review(ben_id, 3, True).status_code == 201
    api.count_history()
    return ana_ids, ben_id


def ids(page):
    return sorted(item["id"] for item in page["items"])


def test_each_learner_lists_only_their_own_sessions(signed_in, histories):
    ana, ben = signed_in
    ana_ids, ben_id = histories

    assert ids(ana.get("/api/study-sessions").json_body) == sorted(ana_ids)
    assert ids(ben.get("/api/study-sessions").json_body) == [ben_id]
    assert ana.get("/api/study-sessions?page=1&per_page=10").json_body["total"] == 2
    assert ben.get("/api/study-sessions?page=1&per_page=10").json_body["total"] == 1
    assert ids(ana.get("/api/groups/1/study-sessions").json_body) == [ana_ids[0]]
    assert ids(ben.get("/api/study-activities/1/sessions").json_body) == [ben_id]
    assert ids(ben.get("/api/study-activities/1/study-sessions").json_body) == [ben_id]
    for order in ("sort_by=startTime&order=desc", "sort_by=review_items_count&order=asc"):
        page = ben.get(f"/groups/1/study_sessions?page=1&{order}").json_body
        assert [s["id"] for s in page["study_sessions"]] == [ben_id]


def test_another_learner_s_session_is_404_exactly_like_an_unknown_one(api, signed_in, histories):
    ana, ben = signed_in
    ana_ids, _ = histories
    unknown = str(uuid.uuid4())
    reviews_before = api.dynamodb.scan(TableName=api.names["word_reviews"])["Count"]

    for path in ("/api/study-sessions/{}", "/api/study-sessions/{}?page=1"):
        theirs, none = ben.get(path.format(ana_ids[0])), ben.get(path.format(unknown))
        assert (theirs.status_code, theirs.json_body) == (none.status_code, none.json_body) == (
            404, {"error": "This study session does not exist.", "code": "not_found"})
    for path, body in ((f"/api/study-sessions/{ana_ids[0]}/review", {"word_id": 1, "correct": True}),
                       (f"/api/study-sessions/{ana_ids[0]}/words/1/review", {"correct": True}),
                       (f"/study_sessions/{ana_ids[0]}/review",
                        {"reviews": [{"word_id": 1, "is_correct": True}]})):
        assert_error(ben.post(body, path=path), 404, "not_found", "study session does not exist")

    assert api.dynamodb.scan(TableName=api.names["word_reviews"])["Count"] == reviews_before
    assert ana.get(f"/api/study-sessions/{ana_ids[0]}").json_body["session"]["review_items_count"] == 3


def test_a_round_resent_by_another_learner_to_the_same_session_is_not_a_replay(signed_in, histories):
    ana, ben = signed_in
    ana_ids, _ = histories
    body = {"reviews": [{"word_id": 4, "is_correct": True}]}
    assert ana.post(body, path=f"/study_sessions/{ana_ids[0]}/review").status_code == 201

    assert_error(ben.post(body, path=f"/study_sessions/{ana_ids[0]}/review"), 404, "not_found")


def test_the_same_idempotency_key_from_two_learners_makes_two_sessions(api, signed_in):
    ana, ben = signed_in
    key = {"Idempotency-Key": "same-key"}

    first, second = ana.post(NEW, headers=key), ben.post(NEW, headers=key)
    again = ana.post(NEW, headers=key)

    assert (first.status_code, second.status_code, again.status_code) == (201, 201, 201)
    assert first.json_body["id"] != second.json_body["id"]
    assert again.json_body["id"] == first.json_body["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert api.session_count() == 2


def test_figures_and_word_counts_are_each_learner_s_own(signed_in, histories):
    ana, ben = signed_in

    ana_stats, ben_stats = ana.get("/dashboard/stats").json_body, ben.get("/dashboard/stats").json_body
    assert (ana_stats["total_sessions"], ana_stats["total_words_studied"], ana_stats["success_rate"]) == (
        2, 2, round(2 / 3, 4))
    assert (ben_stats["total_sessions"], ben_stats["total_words_studied"],
            ben_stats["success_rate"]) == (1, 1, 1)
    assert ana.get("/dashboard/recent-session").json_body["id"] in histories[0]
    assert ben.get("/dashboard/recent-session").json_body["id"] == histories[1]
    word = ana.get("/words/1").json_body["word"]
    assert (word["correct_count"], word["wrong_count"]) == (1, 1)
    assert (ben.get("/words/1").json_body["word"]["correct_count"],
            ben.get("/words/3").json_body["word"]["correct_count"]) == (0, 1)
    ben_words = {w["id"]: w["correct_count"] for w in ben.get("/groups/1/words?page=1").json_body["words"]}
    assert ben_words[3] == 1 and ben_words[1] == 0
    by_count = ana.get("/words?page=1&sort_by=wrong_count&order=desc").json_body["words"]
    assert (by_count[0]["id"], by_count[0]["wrong_count"]) == (1, 1)


def test_a_reset_of_one_learner_leaves_the_other_s_history_whole(api, signed_in, histories):
    ana, ben = signed_in
    api.restart(resets=True)
    ben_before = ben.get("/dashboard/stats").json_body

    assert ana.post(None, path="/api/study-sessions/reset").status_code == 200

    assert ana.get("/dashboard/stats").json_body["total_sessions"] == 0
    assert ben.get("/dashboard/stats").json_body == ben_before
    assert ids(ben.get("/api/study-sessions").json_body) == [histories[1]]
    assert ben.get(f"/api/study-sessions/{histories[1]}").status_code == 200


def test_without_a_token_learner_routes_are_401_and_reference_data_is_public(api, signed_in):
    for path in ("/api/study-sessions", "/dashboard/stats", "/words", "/words/1", "/groups/1/words",
                 "/groups/1/study_sessions"):
        assert_error(api.get(path), 401, "unauthorized", "Sign in first")
    assert_error(api.post(NEW), 401, "unauthorized")
    for path in ("/api/groups", "/api/groups/1", "/api/groups/1/words", "/api/study-activities",
                 "/api/study-activities/1", "/api/study-activities/1/launch", "/groups", "/groups/1"):
        assert api.get(path).status_code == 200, path
    assert api.session_count() == 0


def test_a_learner_id_in_the_body_or_a_header_is_not_taken(api, signed_in):
    ana, ben = signed_in
    ana_id = ana.create()

    spoofed = ben.get(f"/api/study-sessions/{ana_id}")
    with_header = api.get(f"/api/study-sessions/{ana_id}",
                          headers={**ben.headers, "X-Learner": "ana", "X-Amzn-Oidc-Identity": "ana"})

    assert spoofed.status_code == with_header.status_code == 404


# Through the local server, with the local Cognito: what the deployed gateway checks.
def crafted(server, **changes):
    """An ID token signed with the pool's own key (moto's), with these claims changed."""
    now = int(time.time())
    claims = {"sub": "crafted", "cognito:username": "crafted", "token_use": "id", "iat": now,
              "auth_time": now, "exp": now + 3600, "aud": server.settings["client_id"],
              "iss": issuer(server.settings["region"], server.settings["user_pool_id"]), **changes}
    return jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, POOL_PRIVATE_KEY)


@pytest.mark.server
@pytest.mark.parametrize("case", ["missing", "malformed", "forged", "expired", "other pool", "other client",
                                  "access token", "no subject"])
def test_the_local_server_refuses_every_bad_token_with_401_json_and_cors(signed_in_server, case):
    server = signed_in_server
    good = server.token("ana")
    other_key = RSAKey.generate_key(2048, parameters={"kid": "dummy"})
    authorization = {
        "missing": None,
        "malformed": "not-a-token",
        "forged": jwt.encode({"alg": "RS256", "kid": "dummy"}, claims_of(good), other_key),
        "expired": crafted(server, exp=int(time.time()) - 1),
        "other pool": crafted(server, iss=issuer("us-east-1", "us-east-1_someoneelse")),
        "other client": crafted(server, aud="another-app-client"),
        "access token": crafted(server, token_use="access"),
        "no subject": crafted(server, sub=""),
    }[case]
    headers = {"Content-Type": "application/json", "Origin": "http://localhost:5173",
               **({"Authorization": authorization} if authorization else {})}
    before = server.dynamodb.scan(TableName=server.names["study_sessions"])["Count"]

    created = requests.post(f"{server.base_url}/api/study-sessions", json=NEW, headers=headers, timeout=30)
    listed = requests.get(f"{server.base_url}/dashboard/stats", headers=headers, timeout=30)

    for response in (created, listed):
        assert response.status_code == 401, response.text
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.json()["code"] == "unauthorized" and set(response.json()) == {"error", "code"}
    assert server.dynamodb.scan(TableName=server.names["study_sessions"])["Count"] == before


@pytest.mark.server
def test_the_local_server_serves_a_signed_in_learner_and_public_routes_without_a_token(signed_in_server):
    server = signed_in_server
    headers = {"Authorization": server.token("ana")}

    created = requests.post(f"{server.base_url}/api/study-sessions", json=NEW, headers=headers, timeout=30)
    bearer = requests.get(f"{server.base_url}/api/study-sessions/{created.json()['id']}",
                          headers={"Authorization": f"Bearer {headers['Authorization']}"}, timeout=30)
    public = requests.get(f"{server.base_url}/api/groups", timeout=30)
    preflight = requests.options(f"{server.base_url}/dashboard/stats", timeout=30, headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})

    assert (created.status_code, bearer.status_code, public.status_code, preflight.status_code) == (
        201, 200, 200, 200)
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


@pytest.mark.server
def test_a_method_a_learner_path_does_not_serve_needs_sign_in_before_its_405(signed_in_server):
    server = signed_in_server
    url = f"{server.base_url}/dashboard/stats"

    anonymous = requests.put(url, timeout=30)
    signed_in = requests.put(url, headers={"Authorization": server.token("ana")}, timeout=30)
    public = requests.put(f"{server.base_url}/api/groups", timeout=30)

    assert [(r.status_code, r.json()["code"]) for r in (anonymous, signed_in, public)] == [
        (401, "unauthorized"), (405, "method_not_allowed"), (405, "method_not_allowed")]
    assert signed_in.headers["Allow"] == "GET"


@pytest.mark.server
def test_fifty_parallel_creates_each_for_two_learners_count_exactly_per_learner(signed_in_server):
    server = signed_in_server
    learners = {name: {"Authorization": server.token(name)} for name in ("ana", "ben")}
    subs = {name: claims_of(headers["Authorization"])["sub"] for name, headers in learners.items()}

    def stored():
        sessions = [from_item(item) for item in server.dynamodb.scan(
            TableName=server.names["study_sessions"], ConsistentRead=True)["Items"]]
        return {name: sum(1 for s in sessions if s["owner"] == f"{sub}#0") for name, sub in subs.items()}

    before = stored()

    def create(name):
        return requests.post(f"{server.base_url}/api/study-sessions", json=NEW, headers=learners[name],
                             timeout=60).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(create, ["ana", "ben"] * 50))
    assert statuses == [201] * 100

    after = stored()
    assert after == {name: before[name] + 50 for name in learners}
    deadline = time.monotonic() + 60  # the stream consumer trails the writes
    while True:
        totals = {name: requests.get(f"{server.base_url}/dashboard/stats", headers=h, timeout=30).json()[
            "total_sessions"] for name, h in learners.items()}
        if totals == after or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert totals == after


# Every claim in every JSON shape: the local verifier answers a learner or InvalidToken, nothing else.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from devtools.local_auth import InvalidToken, TokenVerifier  # noqa: E402

VERIFIER_KEY = RSAKey.generate_key(2048, parameters={"kid": "property"})
VERIFIER_ISSUER = issuer("us-east-1", "us-east-1_property")
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(), inner, max_size=3), max_leaves=5)
NOW_SECONDS = 1_900_000_000
VALID = {"sub": "learner-1", "token_use": "id", "aud": "client-1", "iss": VERIFIER_ISSUER,
         "exp": 2_000_000_000}


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(changes=st.dictionaries(st.sampled_from(sorted(VALID)), JSON_VALUES | st.just("<absent>"), max_size=5))
def test_the_local_verifier_answers_every_claim_shape_with_the_learner_or_a_401(changes):
    verifier = TokenVerifier({"keys": [VERIFIER_KEY.as_dict(private=False)]}, VERIFIER_ISSUER, ["client-1"],
                             clock=lambda: NOW_SECONDS)
    claims = {name: value for name, value in {**VALID, **changes}.items() if value != "<absent>"}
    token = jwt.encode({"alg": "RS256", "kid": "property"}, claims, VERIFIER_KEY)
    exp = claims.get("exp")
    acceptable = (isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp > NOW_SECONDS
                  and claims.get("iss") == VERIFIER_ISSUER and claims.get("token_use") == "id"
                  and claims.get("aud") == "client-1" and isinstance(claims.get("sub"), str)
                  and claims["sub"] != "")

    try:
        verified = verifier.claims(token)
    except InvalidToken:
        assert not acceptable, claims
        return
    assert acceptable and verified == claims
