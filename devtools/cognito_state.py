"""The local Cognito's state on disk: moto's server keeps its user pools in memory only, so each
start would make new pool and client ids and new learner `sub`s (a built frontend goes stale, a
learner's history is orphaned). This writes every pool, its app clients, its users (username,
`sub`, password, status, attributes), its live refresh tokens (with the `sub` each was issued
to, devtools.cognito_tokens) and its unexpired access tokens to a JSON file after each request
that changed them, and puts them back with the same ids at the next start. A token of a user
deleted since is never written.

Tokens stay valid across a restart without more: moto signs them all with the one key it ships,
and the issuer and audience are the pool and client ids kept here.
"""
import json
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Optional

from moto.cognitoidp.models import (
    CognitoIdpUser,
    CognitoIdpUserPool,
    CognitoIdpUserPoolClient,
    UserStatus,
    cognitoidp_backends,
)

from devtools.cognito_tokens import SUBS, access_token_claims, refresh_token_is_live, sub_of

FORMAT = 2
READABLE = {1, 2}  # format 1 kept no token's `sub`: its tokens are not restored (sign in again)


class UnreadableState(Exception):
    """The state file is not one this code wrote; the message says which and what to do."""


def snapshot(now: Optional[float] = None) -> dict:
    """Every pool of every account and region, as JSON-ready data; access tokens unexpired at
    ``now`` (default: the time)."""
    now = time.time() if now is None else now
    return {"format": FORMAT, "pools": [
        _pool(account, region, pool, now)
        for account, regions in cognitoidp_backends.items()
        for region, backend in regions.items() if region != "global"
        for pool in backend.user_pools.values()]}


def _pool(account: str, region: str, pool: CognitoIdpUserPool, now: float) -> dict:
    return {
        "account": account, "region": region, "id": pool.id, "arn": pool.arn, "name": pool.name,
        "config": pool.extended_config, "created": pool.creation_date.isoformat(),
        "clients": [{"id": client.id, "secret": client.secret, "generate_secret": client.generate_secret,
                     "config": client.extended_config} for client in pool.clients.values()],
        "users": [{"username": user.username, "sub": user.id, "password": user.password,
                   "status": UserStatus(user.status).value,
                   "enabled": user.enabled, "attributes": user.attributes,
                   "created": user.create_date.isoformat()} for user in pool.users.values()],
        "refresh_tokens": {token: [*issued, SUBS[token]] for token, issued in pool.refresh_tokens.items()
                           if refresh_token_is_live(pool, token)},
        "access_tokens": {token: list(issued) for token, issued in pool.access_tokens.items()
                          if _access_token_is_live(pool, token, issued[1], now)},
    }


def _access_token_is_live(pool: CognitoIdpUserPool, token: str, username: str, now: float) -> bool:
    claims = access_token_claims(pool, token) or {}
    return claims.get("exp", 0) > now and claims.get("sub") == sub_of(pool, username)


def restore(state: dict) -> None:
    """Put the pools of ``state`` (what ``snapshot`` returned) into moto's backends."""
    for saved in state["pools"]:
        pool = CognitoIdpUserPool(saved["account"], saved["region"], saved["name"], saved["config"])
        pool.id, pool.arn = saved["id"], saved["arn"]
        pool.creation_date = datetime.fromisoformat(saved["created"])
        for client in saved["clients"]:
            app_client = CognitoIdpUserPoolClient(pool.id, client["generate_secret"], client["config"])
            app_client.id, app_client.secret = client["id"], client["secret"]
            pool.clients[app_client.id] = app_client
        for user in saved["users"]:
            learner = CognitoIdpUser(pool.id, user["username"], user["password"], UserStatus(user["status"]),
                                     user["attributes"])
            learner.id, learner.enabled = user["sub"], user["enabled"]
            learner.update_attributes([{"Name": "sub", "Value": user["sub"]}])
            learner.create_date = datetime.fromisoformat(user["created"])
            pool.users[learner.username] = learner
        for token, (client_id, username, origin_jti, *sub) in saved["refresh_tokens"].items():
            if sub:
                pool.refresh_tokens[token], SUBS[token] = (client_id, username, origin_jti), sub[0]
        pool.access_tokens.update({token: tuple(issued)
                                   for token, issued in saved.get("access_tokens", {}).items()})
        cognitoidp_backends[saved["account"]][saved["region"]].user_pools[pool.id] = pool


def load(path: Path) -> None:
    """Restore what ``path`` holds; nothing if it does not exist."""
    if not path.exists():
        return
    try:
        state = json.loads(path.read_text())
        if state.get("format") not in READABLE:
            raise ValueError(f"format {state.get('format')!r}, not {FORMAT}")
        restore(state)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UnreadableState(f"The local Cognito's state in {path} cannot be read ({error}); "
                              "`make reset-data` forgets it with the data.") from None


class SavedAfterEachChange:
    """WSGI middleware around moto's server: one request at a time (a handful of learners sign
    in locally), and after each the state written to ``path`` if it changed, completely or not
    at all, so that even a killed server keeps every learner it answered for."""

    def __init__(self, app: Callable, path: Path):
        self._app, self._path = app, path
        self._lock = threading.Lock()
        self._written = self._text()

    def _text(self) -> str:
        return json.dumps(snapshot(), indent=1, sort_keys=True) + "\n"

    def save(self) -> None:
        text = self._text()
        if text != self._written:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._path.with_suffix(".tmp")
            temporary.write_text(text)
            os.replace(temporary, self._path)
            self._written = text

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with self._lock:
            body = list(self._app(environ, start_response))
            self.save()
        return body
