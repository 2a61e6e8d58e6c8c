"""Who is asking: the learner a request acts for.

With sign-in (`AUTH_MODE=cognito`) API Gateway's Cognito authorizer has verified the ID token's
signature, expiry and issuer before the function runs (the local server verifies them the same
way, devtools.local_auth); the learner is the token's `sub`, taken from the authorizer's claims
and nowhere else: never from the body, the path or a header the client sets. The function also
checks what the gateway does not: that it is an ID token of one of this API's app clients
(LEARNER_CLIENT_IDS), not a token another app of the same pool was given. Without sign-in every
request is the implicit learner's.
"""
import os
from typing import NamedTuple, Optional

from chalice import CognitoUserPoolAuthorizer
from chalice.app import Request

from chalicelib.core.errors import Unauthorized
from chalicelib.storage.schema import IMPLICIT_LEARNER

# Replaced in the packaged template by the stage's user pool (devtools/learner_pool.py).
POOL_ARN_PLACEHOLDER = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_placeholder"
AUTHORIZER_NAME = "learners"
SIGN_IN_FIRST = "Sign in first: send a valid Cognito ID token in the Authorization header."


def authorizer() -> CognitoUserPoolAuthorizer:
    return CognitoUserPoolAuthorizer(AUTHORIZER_NAME, provider_arns=[POOL_ARN_PLACEHOLDER])


def learner_of(request: Request, mode: str) -> str:
    return identity_of(request, mode).sub


class Identity(NamedTuple):
    sub: str  # the learner
    username: Optional[str]
    email: Optional[str]


def identity_of(request: Request, mode: str) -> Identity:
    """The learner, with the account's username and e-mail as the token states them."""
    if mode == "none":
        return Identity(IMPLICIT_LEARNER, None, None)
    claims = ((request.context or {}).get("authorizer") or {}).get("claims") or {}
    clients = [c for c in os.environ.get("LEARNER_CLIENT_IDS", "").split(",") if c]
    learner, audience = claims.get("sub"), claims.get("aud")
    if not isinstance(learner, str) or not learner or claims.get("token_use") != "id" or (
            clients and not (isinstance(audience, str) and audience in clients)):
        raise Unauthorized(SIGN_IN_FIRST)
    username, email = claims.get("cognito:username"), claims.get("email")
    return Identity(learner, username if isinstance(username, str) else None,
                    email if isinstance(email, str) else None)
