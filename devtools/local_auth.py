"""Sign-in on `AUTH=cognito make run`: a local Cognito (moto's server) with a user pool, an app
client and two demo learners, kept in the data folder across restarts, and the token check API
Gateway's Cognito authorizer makes, which `chalice local` skips (it only base64-decodes tokens).

    python -m devtools.local_auth --port 8002 --out .data/local-cognito.json \
        --state .data/dynamodb/cognito.json                                 (started by make run)

The pool's tokens are real RS256 JWTs; the local server (devtools.dev_server) checks each one's
signature against the pool's JWKS, its expiry, issuer, audience (this app client) and use (an ID
token), and answers 401 in the service's error shape otherwise, as the deployed gateway does.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

import boto3
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "region_name": REGION}
POOL_NAME = "lang-portal-local-learners"
CLIENT_NAME = "lang-portal-local"
DEMO_LEARNERS = [("ana", "Ana-local-2026!"), ("ben", "Ben-local-2026!")]


class InvalidToken(Exception):
    """Why a request's token does not sign a learner in; the message is safe to show."""


def issuer(region: str, pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


class TokenVerifier:
    """What API Gateway's Cognito authorizer checks, and the app client besides."""

    def __init__(self, jwks: dict, issuer_: str, client_ids: Iterable[str],
                 clock: Callable[[], float] = time.time):
        self._keys = KeySet.import_key_set(jwks)
        self._issuer = issuer_
        self._clients = set(client_ids)
        self._clock = clock

    def claims(self, authorization: Optional[str]) -> dict:
        if not authorization:
            raise InvalidToken("No token: send a Cognito ID token in the Authorization header.")
        scheme, _, rest = authorization.partition(" ")
        token = rest if scheme.lower() == "bearer" else authorization
        try:
            claims = jwt.decode(token.strip(), self._keys, algorithms=["RS256"]).claims
        except (JoseError, ValueError, TypeError, KeyError, IndexError, UnicodeError):
            raise InvalidToken("The token is malformed or its signature is not the pool's.") from None
        if not isinstance(claims, dict):
            raise InvalidToken("The token is malformed or its signature is not the pool's.")
        # Each claim must have the one shape Cognito gives it: anything else is refused, never compared.
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool) or exp <= self._clock():
            raise InvalidToken("The token has expired: sign in again.")
        if not isinstance(claims.get("iss"), str) or claims["iss"] != self._issuer:
            raise InvalidToken("The token was issued by another user pool.")
        if claims.get("token_use") != "id":
            raise InvalidToken("Send the ID token, not the access token.")
        if not isinstance(claims.get("aud"), str) or claims["aud"] not in self._clients:
            raise InvalidToken("The token was issued to another app client.")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidToken("The token names no user.")
        return claims

    @classmethod
    def for_local_pool(cls, settings: dict) -> "TokenVerifier":
        """From the settings make run wrote (.data/local-cognito.json): the pool's JWKS fetched once."""
        import urllib.request

        url = f"{settings['endpoint']}/{settings['user_pool_id']}/.well-known/jwks.json"
        with urllib.request.urlopen(url, timeout=5) as answer:
            jwks = json.load(answer)
        return cls(jwks, issuer(settings["region"], settings["user_pool_id"]), [settings["client_id"]])


def cognito_client(endpoint: str):
    return boto3.client("cognito-idp", endpoint_url=endpoint, **CREDENTIALS)


def signed_in_environment(environ) -> Dict[str, str]:
    """What `AUTH=cognito make run` sets for its processes (LOCAL_COGNITO_FILE, AUTH_MODE), to put
    back over the local stage's own variables: sign-in, and the local pool as a deployed function
    finds its own (USER_POOL_ID, and the endpoint botocore reads); empty without sign-in."""
    if environ.get("AUTH_MODE") != "cognito":
        return {}
    settings = json.loads(Path(environ["LOCAL_COGNITO_FILE"]).read_text())
    return {"AUTH_MODE": "cognito", "USER_POOL_ID": settings["user_pool_id"],
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": settings["endpoint"]}


def create_pool(client, learners: List[tuple] = DEMO_LEARNERS) -> Dict[str, object]:
    """A user pool, an app client that signs in with USER_PASSWORD_AUTH, and the learners with
    permanent passwords; what a client needs to sign them in."""
    pool = client.create_user_pool(PoolName=POOL_NAME, Policies={"PasswordPolicy": {
        "MinimumLength": 12, "RequireUppercase": True, "RequireLowercase": True,
        "RequireNumbers": True, "RequireSymbols": True}})["UserPool"]
    app_client = client.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName=CLIENT_NAME, GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    add_learners(client, pool["Id"], learners)
    return {"user_pool_id": pool["Id"], "client_id": app_client["ClientId"], "learners": _listed(learners)}


def add_learners(client, pool_id: str, learners: List[tuple]) -> None:
    """Each learner with a permanent password; one the pool has already is left as it is."""
    for username, password in learners:
        try:
            client.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
        except client.exceptions.UsernameExistsException:
            continue
        client.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password,
                                       Permanent=True)


def _listed(learners: List[tuple]) -> List[dict]:
    return [{"username": username, "password": password} for username, password in learners]


def sign_in(client, client_id: str, username: str, password: str) -> str:
    """The ID token, as a frontend gets it with the Cognito API."""
    answer = client.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": username, "PASSWORD": password})
    return answer["AuthenticationResult"]["IdToken"]


def running_local_cognito(settings_file: Path) -> Optional[dict]:
    """What make run wrote to ``settings_file`` while its local Cognito answers for that pool;
    None when the file is missing or left behind by a run killed before it could delete it."""
    import urllib.request

    if not settings_file.exists():
        return None
    settings = json.loads(settings_file.read_text())
    try:
        with urllib.request.urlopen(f"{settings['endpoint']}/{settings['user_pool_id']}"
                                    "/.well-known/jwks.json", timeout=5) as answer:
            return settings if "keys" in json.load(answer) else None
    except (OSError, ValueError):
        return None


def local_pool(client) -> Dict[str, object]:
    """The pool and app client of an earlier start (devtools.cognito_state kept them, with their
    learners), or new ones. A demo learner erased since (DELETE /api/me) comes back as a new
    learner, a new `sub`, as if signed up again."""
    pools = [pool for page in client.get_paginator("list_user_pools").paginate(MaxResults=60)
             for pool in page["UserPools"] if pool["Name"] == POOL_NAME]
    for pool in pools:
        for app_client in client.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=60)[
                "UserPoolClients"]:
            if app_client["ClientName"] == CLIENT_NAME:
                add_learners(client, pool["Id"], DEMO_LEARNERS)
                return {"user_pool_id": pool["Id"], "client_id": app_client["ClientId"],
                        "learners": _listed(DEMO_LEARNERS)}
    return create_pool(client)


def serve(port: int, state: Path):
    """moto's server on 127.0.0.1:``port`` with the calls it lacks (devtools.cognito_calls) and
    its pools restored from ``state`` and saved there after each change; running in a thread."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from devtools import cognito_calls, cognito_state, cognito_tokens

    cognito_tokens.install()
    cognito_calls.install()
    cognito_state.load(state)
    app = cognito_state.SavedAfterEachChange(DomainDispatcherApplication(create_backend_app), state)
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--state", type=Path, required=True,
                        help="the file that keeps pools, app clients and learners across starts")
    args = parser.parse_args()
    from devtools.cognito_state import UnreadableState

    try:
        server = serve(args.port, args.state)
    except UnreadableState as error:
        print(error, file=sys.stderr)
        return 1
    endpoint = f"http://127.0.0.1:{args.port}"
    client = cognito_client(endpoint)
    settings = {"endpoint": endpoint, "region": REGION, **local_pool(client)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_suffix(".tmp")
    temporary.write_text(json.dumps(settings, indent=2) + "\n")
    os.replace(temporary, args.out)  # complete or absent: make run waits for it
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    args.out.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
