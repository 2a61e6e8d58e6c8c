"""Which history a learner's requests read and write, and the reset that starts a new one.

A learner's sessions, reviews and aggregates are keyed by their owner, "<learner>#<epoch>"
(chalicelib.storage.schema). A reset moves the learner to the next epoch with one small write: nothing
of the old epoch is listed, counted or readable afterwards, and chalicelib.streams.purge deletes it
later, off the request path. Where resets are off (prod) the epoch is always 0 and nothing is
read to know it; where they are on, each request first reads the learner's epoch (one
strongly consistent GetItem, so a read right after a reset sees the new epoch).
"""
from chalicelib.core.errors import Forbidden, Unauthorized
from chalicelib.storage.history_repository import HistoryRepository
from chalicelib.storage.schema import owner, split_owner

ACCOUNT_ERASED = "This account was deleted: its tokens are no longer accepted."


class Histories:
    def __init__(self, repository: HistoryRepository, resets_enabled: bool, erasable: bool = False):
        """``erasable``: learners sign in, and may erase their account (chalicelib.study.data_rights):
        then each request also reads the learner's erased mark, with the epoch where resets are on."""
        self._repository = repository
        self._resets_enabled = resets_enabled
        self._erasable = erasable

    @property
    def erasable(self) -> bool:
        return self._erasable

    def owner(self, learner: str) -> str:
        if self._erasable:
            epoch, erased = self._repository.learner_state(learner, self._resets_enabled)
            if erased:
                raise Unauthorized(ACCOUNT_ERASED)
            return owner(learner, epoch)
        return owner(learner, self._repository.epoch(learner) if self._resets_enabled else 0)

    def is_current(self, owner_: str) -> bool:
        """Whether ``owner_`` is still its learner's current history: not reset since, nor erased
        (one strongly consistent read where either may happen)."""
        learner, epoch = split_owner(owner_)
        if not (self._erasable or self._resets_enabled):
            return epoch == 0
        current, erased = self._repository.learner_state(learner, self._resets_enabled)
        return not erased and current == epoch

    def epochs(self, learner: str) -> range:
        """The learner's epochs whose items may still be stored: the purge's done with the rest."""
        state = self._repository.history(learner)
        return range(state.get("purged", 0), state.get("epoch", 0) + 1)

    def reset(self, learner: str) -> dict:
        if not self._resets_enabled:
            raise Forbidden("Resetting study history is turned off on this stage.")
        if self._erasable:
            self.owner(learner)  # an erased learner's token is refused here too
        self._repository.start_new_history(learner)
        return {"message": "Study history has been reset."}
