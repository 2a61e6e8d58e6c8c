"""The learners' sign-in accounts: the stage's Cognito user pool (USER_POOL_ID). Only the purge
deletes them (chalicelib.streams.purge), by the learner's `sub`, the one id that is never reused: a
username freed by a deletion may be taken by someone else, whose account must stay."""
from typing import Callable


class CognitoAccounts:
    def __init__(self, client_factory: Callable[[], object], pool_id: str):
        """``client_factory``: makes the cognito-idp client on first use (most runs erase nobody)."""
        self._client_factory = client_factory
        self._client = None
        self._pool_id = pool_id

    def delete(self, sub: str) -> None:
        """Delete the user whose `sub` this is, if there is one: deleting twice is no error.
        The pool's own filter finds them (Cognito also takes a sub as AdminDeleteUser's
        Username, but moto's Cognito, the tests' and `make run`'s, does not)."""
        if self._client is None:
            self._client = self._client_factory()
        quoted = sub.replace("\\", "\\\\").replace('"', '\\"')
        found = self._client.list_users(UserPoolId=self._pool_id, Filter=f'sub = "{quoted}"', Limit=2)
        for user in found["Users"]:
            try:
                self._client.admin_delete_user(UserPoolId=self._pool_id, Username=user["Username"])
            except self._client.exceptions.UserNotFoundException:
                pass  # deleted meanwhile
