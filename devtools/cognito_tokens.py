"""Tokens that end with their learner, as Cognito's do, in the local Cognito (devtools.local_auth).

moto keeps a refresh token by username only, and deleting a user leaves their tokens in the
pool: a learner signed up again under an erased learner's name (or a demo learner re-created at
the next start) would be refreshed by the erased learner's tokens. Here each refresh token is
tied to the `sub` it was issued to and refused for any other, in every flow that refreshes
(InitiateAuth, AdminInitiateAuth, GetTokensFromRefreshToken), and deleting a user
(AdminDeleteUser, DeleteUser) drops their refresh, access and ID tokens from the pool.
"""
from typing import Dict, Optional

from joserfc import jwt
from joserfc.errors import JoseError
from moto.cognitoidp.exceptions import NotAuthorizedError
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUser, CognitoIdpUserPool

SUBS: Dict[str, str] = {}  # refresh token -> the sub of the user it was issued to


def sub_of(pool: CognitoIdpUserPool, username: str) -> Optional[str]:
    user = pool._get_user(username)
    return user.id if user else None


def refresh_token_is_live(pool: CognitoIdpUserPool, token: str) -> bool:
    """Not revoked, and its user is the one it was issued to."""
    issued = pool.refresh_tokens.get(token)
    return issued is not None and SUBS.get(token) is not None and SUBS[token] == sub_of(pool, issued[1])


def access_token_claims(pool: CognitoIdpUserPool, token: str) -> Optional[dict]:
    try:
        return jwt.decode(token, pool.json_web_key).claims
    except (JoseError, ValueError):
        return None


def drop_tokens(pool: CognitoIdpUserPool, user: CognitoIdpUser) -> None:
    for token, issued in list(pool.refresh_tokens.items()):
        if SUBS.get(token) == user.id or (issued is not None and issued[1] == user.username):
            del pool.refresh_tokens[token]
            SUBS.pop(token, None)
    for tokens in (pool.access_tokens, pool.id_tokens):
        for token in [token for token, (_, username) in tokens.items() if username == user.username]:
            del tokens[token]


def _create_refresh_token(create):
    def create_tied_to_sub(self: CognitoIdpUserPool, client_id: str, username: str):
        token, origin_jti = create(self, client_id, username)
        SUBS[token] = sub_of(self, username)
        return token, origin_jti
    return create_tied_to_sub


def _create_tokens_from_refresh_token(create):
    def create_for_its_sub(self: CognitoIdpUserPool, refresh_token: str):
        if not refresh_token_is_live(self, refresh_token):
            raise NotAuthorizedError("Invalid Refresh Token")
        return create(self, refresh_token)
    return create_for_its_sub


def _admin_delete_user(delete):
    def delete_with_tokens(self: CognitoIdpBackend, user_pool_id: str, username: str) -> None:
        user = self.admin_get_user(user_pool_id, username)
        delete(self, user_pool_id, username)
        drop_tokens(self.describe_user_pool(user_pool_id), user)
    return delete_with_tokens


PATCHES = [(CognitoIdpUserPool, "create_refresh_token", _create_refresh_token),
           (CognitoIdpUserPool, "create_tokens_from_refresh_token", _create_tokens_from_refresh_token),
           (CognitoIdpBackend, "admin_delete_user", _admin_delete_user)]


def install() -> None:
    """In this process's moto (once: the server's process calls it at start)."""
    if getattr(CognitoIdpUserPool, "_tokens_tied_to_sub", False):
        return
    for owner, name, wrap in PATCHES:
        setattr(owner, name, wrap(getattr(owner, name)))
    CognitoIdpUserPool._tokens_tied_to_sub = True
