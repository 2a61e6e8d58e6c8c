"""The learners' sign-in accounts: the stage's Cognito user pool (USER_POOL_ID). The function's
role may delete a user of that pool and nothing else (devtools/learner_pool.py)."""
from typing import Callable

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import Unavailable


class CognitoAccounts:
    def __init__(self, client_factory: Callable[[], object], pool_id: str):
        """``client_factory``: makes the cognito-idp client on first use (a create never needs it)."""
        self._client_factory = client_factory
        self._client = None
        self._pool_id = pool_id

    def delete(self, username: str) -> None:
        """Delete the user; one already deleted is no error (the erasure is resent)."""
        if self._client is None:
            self._client = self._client_factory()
        try:
            self._client.admin_delete_user(UserPoolId=self._pool_id, Username=username)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "UserNotFoundException":
                raise Unavailable("The sign-in service did not delete the account; retry shortly.",
                                  cause=f"Cognito {error.response.get('Error', {}).get('Code')}") from None
        except BotoCoreError as error:
            raise Unavailable("The sign-in service did not delete the account; retry shortly.",
                              cause=f"botocore {type(error).__name__}") from None
