"""Which history a learner's requests read and write, and the reset that starts a new one.

A learner's sessions, reviews and aggregates are keyed by their owner, "<learner>#<epoch>"
(chalicelib.schema). A reset moves the learner to the next epoch with one small write: nothing
of the old epoch is listed, counted or readable afterwards, and chalicelib.purge deletes it
later, off the request path. Where resets are off (prod) the epoch is always 0 and nothing is
read to know it; where they are on, each request first reads the learner's epoch (one
strongly consistent GetItem, so a read right after a reset sees the new epoch).
"""
from chalicelib.errors import Forbidden
from chalicelib.schema import owner
from chalicelib.store import DynamoStore


class Histories:
    def __init__(self, store: DynamoStore, resets_enabled: bool):
        self._store = store
        self._resets_enabled = resets_enabled

    def owner(self, learner: str) -> str:
        return owner(learner, self._store.epoch(learner) if self._resets_enabled else 0)

    def reset(self, learner: str) -> dict:
        if not self._resets_enabled:
            raise Forbidden("Resetting study history is turned off on this stage.")
        self._store.start_new_history(learner)
        return {"message": "Study history has been reset."}
