"""After a learner's scheduler changed (a new desired retention, fitted parameters adopted:
chalicelib.storage.scheduler_repository), every memory of theirs computed with an older version
is computed again from the stored reviews with the current settings, off the request path.

``recompute(store, owner)`` pages through the owner's memory items by word id; each one whose
version is behind the scheduler's is replayed whole from the word's reviews (the index
REVIEWS_BY_WORD) and written on condition that it still holds the count of reviews and the
version it was read with. A review of the word in between fails that condition: the word is
read and replayed again. A review racing the change never mixes the two: a review advances a
stored memory only with the settings of the memory's own version, and otherwise replays the word
with the scheduler it read (chalicelib.core.scheduling). Idempotent and resumable: a run stopped
half-way leaves every word either current or behind, and the next run finishes; a run over
current memories writes nothing. A memory is only ever moved forward: a run of an older version
leaves one a newer run wrote."""
import json
import logging
from typing import Callable, NamedTuple

from chalicelib.core.errors import Unavailable
from chalicelib.core.scheduling import memory_version, replay, settings_of
from chalicelib.storage.scheduler_repository import RECOMPUTE_PENDING
from chalicelib.storage.store import Store

PAGE = 100
WORD_ATTEMPTS = 16  # replays of one word that reviews keep changing meanwhile

log = logging.getLogger("study-sessions.recompute")


class Recomputed(NamedTuple):
    version: int  # the scheduler version the memories were brought to
    written: int  # memory items written
    current: int  # memory items already of that version


def recompute(store: Store, owner: str) -> Recomputed:
    """Bring every memory of ``owner`` to their scheduler's current version."""
    scheduler = store.scheduler.scheduler(owner)
    settings = settings_of(scheduler)
    written = current = 0
    after = None
    while True:
        page, more = store.memories.partition_page(owner, PAGE, after)
        for memory in page:
            if memory_version(memory) >= settings.version:
                current += 1
            elif _recompute_word(store, owner, memory, settings):
                written += 1
            else:
                current += 1
        if not more:
            if scheduler.get(RECOMPUTE_PENDING) == settings.version:
                store.scheduler.recompute_done(owner, settings.version)
            return Recomputed(settings.version, written, current)
        after = page[-1]["word_id"]


def handle(store: Store, event: dict, is_current: Callable[[str], bool] = lambda owner: True) -> dict:
    """The recompute queue's SQS event (batch size 1): each message {"owner", "version"}
    recomputes the owner's memories, unless ``is_current(owner)`` says that history was reset or
    erased since (the purge deletes it: nothing is written into it); an error fails the message,
    which SQS hands again (the run resumes where it stopped) and after the queue's
    maxReceiveCount moves to its dead-letter queue."""
    done = []
    for record in event.get("Records", []):
        owner = str(json.loads(record["body"])["owner"])
        if not is_current(owner):
            log.info("recompute skipped: the history was reset or erased")
            continue
        result = recompute(store, owner)
        log.info("recomputed version=%d written=%d current=%d", *result)
        done.append(result._asdict())
    return {"recomputed": done}


def _recompute_word(store: Store, owner: str, memory: dict, settings) -> bool:
    """Replay one word with ``settings`` and write it, again while reviews change it; False when
    another run brought it to that version (or a later one) first."""
    word_id = memory["word_id"]
    for _ in range(WORD_ATTEMPTS):
        answers = store.reviews.word_history(owner, word_id, memory)
        fields = replay(word_id, answers, settings)
        if store.memories.rewrite(owner, word_id, fields, memory["applied"], memory_version(memory)):
            return True
        memory = store.memories.memory(owner, word_id)  # a review, or another run, came first
        if not memory or memory_version(memory) >= settings.version:
            return False
    raise Unavailable(cause=f"the memory of word {word_id} kept changing under its recompute")
