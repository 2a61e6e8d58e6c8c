"""The Cognito calls Amplify makes that moto's server lacks, added to its cognito-idp answers
in the process that serves them (devtools.local_auth): `RevokeToken`, which `signOut()` sends,
`GetTokensFromRefreshToken`, with which Amplify >= 6.15 refreshes, and `DeleteUser`, which
`deleteUser()` sends. Without them moto answers 500 with no CORS headers, and the browser logs
failed requests and errors.

They keep to moto's own records: a pool's refresh tokens map to (client, username, origin_jti),
None once revoked, as moto's GlobalSignOut leaves them; its access tokens are kept by value.
Which refresh tokens still sign their user in is devtools.cognito_tokens' rule.
"""
from typing import Iterator, Optional

from joserfc import jwt
from moto.cognitoidp.exceptions import NotAuthorizedError, ResourceNotFoundError
from moto.cognitoidp.models import CognitoIdpUserPool, cognitoidp_backends
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, EmptyResult


def _pools() -> Iterator[CognitoIdpUserPool]:
    for account in cognitoidp_backends.values():
        for region, backend in account.items():
            yield from backend.user_pools.values() if region != "global" else ()


def _pool_with_client(client_id: Optional[str]) -> CognitoIdpUserPool:
    for pool in _pools():
        if client_id in pool.clients:
            return pool
    raise ResourceNotFoundError(client_id)


def _check_secret(pool: CognitoIdpUserPool, client_id: str, secret: Optional[str]) -> None:
    client = pool.clients[client_id]
    if client.generate_secret and secret != client.secret:
        raise NotAuthorizedError("Client secret is not correct.")


def _origin_jti(pool: CognitoIdpUserPool, access_token: str) -> Optional[str]:
    return jwt.decode(access_token, pool.json_web_key).claims.get("origin_jti")


def revoke_token(self: CognitoIdpResponse) -> EmptyResult:
    """The refresh token and the access tokens issued with it stop working. A token unknown or
    already revoked is answered as AWS answers it: 200, nothing to do."""
    client_id, token = self._get_param("ClientId"), self._get_param("Token")
    pool = _pool_with_client(client_id)
    _check_secret(pool, client_id, self._get_param("ClientSecret"))
    if not pool.clients[client_id].extended_config.get("EnableTokenRevocation", True):
        raise JsonRESTError("UnsupportedOperationException",
                            "Token revocation is not enabled for this client.")
    issued = pool.refresh_tokens.get(token)
    if issued is None:
        return EmptyResult()
    issued_to, _, origin_jti = issued
    if issued_to != client_id:
        raise JsonRESTError("UnauthorizedException", "The token was not issued to this client.")
    pool.refresh_tokens[token] = None
    for access_token in [t for t in pool.access_tokens if _origin_jti(pool, t) == origin_jti]:
        del pool.access_tokens[access_token]
    return EmptyResult()


def get_tokens_from_refresh_token(self: CognitoIdpResponse) -> ActionResult:
    """New ID and access tokens for a live refresh token of this client (no rotation: the
    refresh token stays the same, as with a client that does not rotate them)."""
    client_id, token = self._get_param("ClientId"), self._get_param("RefreshToken")
    pool = _pool_with_client(client_id)
    _check_secret(pool, client_id, self._get_param("ClientSecret"))
    issued = pool.refresh_tokens.get(token)
    if issued is None or issued[0] != client_id:
        raise NotAuthorizedError("Invalid Refresh Token")
    access_token, id_token, expires_in = pool.create_tokens_from_refresh_token(token)
    return ActionResult({"AuthenticationResult": {
        "IdToken": id_token, "AccessToken": access_token, "ExpiresIn": expires_in, "TokenType": "Bearer"}})


def delete_user(self: CognitoIdpResponse) -> EmptyResult:
    """The signed-in user deletes themselves, as AdminDeleteUser deletes them."""
    access_token = self._get_param("AccessToken")
    for pool in _pools():
        if access_token in pool.access_tokens:
            pool.backend.admin_delete_user(pool.id, pool.access_tokens[access_token][1])
            return EmptyResult()
    raise NotAuthorizedError("Invalid Access Token")


CALLS = {"revoke_token": revoke_token, "get_tokens_from_refresh_token": get_tokens_from_refresh_token,
         "delete_user": delete_user}


def install() -> None:
    """Answer the calls in this process's moto server; a moto that implements one keeps its own."""
    for name, call in CALLS.items():
        if not hasattr(CognitoIdpResponse, name):
            setattr(CognitoIdpResponse, name, call)
