"""The service's exceptions. Each carries its HTTP status and machine code;
``chalicelib.http`` turns them into responses, in one place."""
from typing import Dict, Optional

from chalice import ChaliceUnhandledError

RETRY_AFTER_SECONDS = 1
SESSION_NOT_FOUND = "This study session does not exist."  # also for another learner's session


class ApiError(ChaliceUnhandledError):
    # ChaliceUnhandledError is the base Chalice lets through to middleware.
    status = 500
    code = "internal_error"
    message = "The server could not complete the request."

    def __init__(self, message: Optional[str] = None, cause: Optional[str] = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.cause = cause

    @property
    def headers(self) -> Dict[str, str]:
        return {}


class ValidationFailed(ApiError):
    status = 400
    code = "validation_error"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"

    def __init__(self, method: str, allowed: str):
        super().__init__(f"{method} is not allowed here; use {allowed}.")
        self.allowed = allowed

    @property
    def headers(self) -> Dict[str, str]:
        return {"Allow": self.allowed}


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"
    message = "Send the body as JSON with 'Content-Type: application/json'."


class IdempotencyKeyReused(ApiError):
    status = 422
    code = "idempotency_key_reused"
    message = (
        "This Idempotency-Key was already used with a different payload; "
        "send a new key for a new request."
    )


class WordNotInGroup(ApiError):
    status = 422
    code = "word_not_in_group"

    def __init__(self, word_id: int, group_id: int, where: Optional[str] = None):
        sentence = f"Word {word_id} is not in group {group_id}, the group of this study session."
        super().__init__(f"{where}: {sentence}" if where else sentence)


class TooFewReviews(ApiError):
    """A fit of the learner's parameters asked for before they have enough reviews to fit."""
    status = 409
    code = "too_few_reviews"

    def __init__(self, reviews: int, needed: int):
        super().__init__(f"A fit needs at least {needed} reviews; this learner has {reviews}. "
                         f"{needed - reviews} more, then ask again.")


class InternalError(ApiError):
    pass


class Unavailable(ApiError):
    status = 503
    code = "unavailable"
    message = "The database is busy or unreachable; retry shortly."

    def __init__(self, message: Optional[str] = None, cause: Optional[str] = None,
                 throttled: bool = False):
        super().__init__(message, cause)
        self.throttled = throttled  # DynamoDB refused for capacity, not unreachable

    @property
    def headers(self) -> Dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}


class OutcomeUnknown(Unavailable):
    """A write was sent, and DynamoDB could not confirm in time whether it was applied."""
    code = "outcome_unknown"
    message = ("The database did not confirm this write in time: it may or may not be stored. "
               "Resending it with the same Idempotency-Key is safe; without one it may be stored twice.")
