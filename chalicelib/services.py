"""The service layer, one object a resource: sessions, reviews, due words and reference data; the
dashboard and the portal's catalog pages are built on them when first used (imported then: a
create's cold start loads only what a create uses)."""
import logging
import threading
import time
from datetime import datetime
from typing import Callable, List, NamedTuple, Optional

from chalicelib.learners.histories import Histories
from chalicelib.learners.reference_cache import ReferenceCache
from chalicelib.storage.store import Store
from chalicelib.study.due_words import DueWords
from chalicelib.study.reference_data import ReferenceData
from chalicelib.study.review_cache import SCHEDULER_SECONDS
from chalicelib.study.reviews import Reviews
from chalicelib.study.sessions import Sessions, utc_now

log = logging.getLogger("study-sessions.recompute")
# A function that kept a learner's scheduler from before a change may apply it for
# chalicelib.study.review_cache.SCHEDULER_SECONDS, and its write land a request's budget later
# (12 s on the local stage): the recompute runs once at once, and once more after that.
SETTLE_SECONDS = SCHEDULER_SECONDS + 12


class BackgroundRecompute:
    """The hook a change of a learner's scheduler calls, ``send(owner, version)``: recompute every
    memory of the owner with the new settings (chalicelib.streams.recompute), off the request
    path. This one runs it on a thread of this process (make run, the tests' servers): the
    answer does not wait for it, and it is done within seconds; it runs again SETTLE_SECONDS later
    for what functions that kept the old scheduler wrote meanwhile (each such memory records its
    version, so it is never a mix, and is replayed by that second run). A queue (SQS) and a function of
    its own are to replace it deployed, where a thread stops with the invocation; until then the
    version on each memory keeps every review exact (a word behind is replayed when reviewed),
    and `make audit` reports memories behind."""

    def __init__(self, store: Store, settle_seconds: float = SETTLE_SECONDS):
        self._store = store
        self._settle_seconds = settle_seconds
        self._threads: List[threading.Thread] = []
        self._lock = threading.Lock()

    def send(self, owner: str, version: int) -> None:
        thread = threading.Thread(target=self._run, args=(owner, version), daemon=True,
                                  name=f"recompute-{version}")
        with self._lock:
            self._threads = [alive for alive in self._threads if alive.is_alive()] + [thread]
        thread.start()

    def _run(self, owner: str, version: int) -> None:
        from chalicelib.streams.recompute import recompute

        for settle in (0.0, self._settle_seconds):  # again once no function can apply the old one
            time.sleep(settle)
            try:
                done = recompute(self._store, owner)
                log.info("recomputed version=%d written=%d current=%d", *done)
            except Exception as error:  # noqa: BLE001 - a review, the next run or the audit finds what is behind
                log.error("recompute_failed version=%d cause=%s: %s", version, type(error).__name__, error)

    def join(self, timeout: Optional[float] = None) -> None:
        """Wait for the recomputes sent so far (tests, shutdown)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)


class Services(NamedTuple):
    sessions: Sessions
    reviews: Reviews
    due_words: DueWords
    references: ReferenceData
    store: Store
    cache: ReferenceCache
    histories: Histories
    clock: Callable[[], datetime]
    erasure_seconds: float  # how long an erased learner's data outlives the request, at most
    recompute_queue: object  # send(owner, version): a learner's memories recomputed, off the request
    fit_queue: object = None  # send(message): a fit of a learner's parameters (chalicelib.storage.queues)

    @classmethod
    def build(cls, store: Store, cache: ReferenceCache, histories: Histories,
              clock: Callable[[], datetime] = utc_now, erasure_seconds: float = 0,
              recompute_queue=None, fit_queue=None) -> "Services":
        references = ReferenceData(cache)
        return cls(Sessions(store, cache, references, histories, clock),
                   Reviews(store, cache, histories, clock), DueWords(store, cache, histories.owner, clock),
                   references, store, cache, histories, clock, erasure_seconds,
                   recompute_queue or BackgroundRecompute(store), fit_queue)

    def scheduler(self):
        """The learner's scheduler: its parameters and desired retention (chalicelib.study.scheduler)."""
        from chalicelib.study.scheduler import LearnerScheduler

        return LearnerScheduler(self.store, self.histories.owner, self.recompute_queue,
                                changed=self.reviews.forget_scheduler, fit_queue=self.fit_queue,
                                clock=self.clock, is_current=self.histories.is_current)

    def learner_data(self):
        """Export and erasure of a learner's data (chalicelib.study.data_rights)."""
        from chalicelib.study.data_rights import LearnerData

        return LearnerData(self.store, self.cache, self.histories, self.clock, self.erasure_seconds)

    def dashboard(self):
        from chalicelib.study.dashboard import Dashboard

        return Dashboard(self.store, self.cache, self.histories.owner, self.clock)

    def catalog(self):
        """The words and groups pages, on the sessions' group pages."""
        from chalicelib.study.catalog import Catalog

        return Catalog(self.store, self.cache, self.histories.owner,
                       self.sessions.numbered_group_sessions, self.sessions.recent_group_sessions)
