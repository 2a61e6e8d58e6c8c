"""The service layer, one object a resource: sessions, reviews, due words and reference data; the
dashboard and the portal's catalog pages are built on them when first used (imported then: a
create's cold start loads only what a create uses)."""
from datetime import datetime
from typing import Callable, NamedTuple

from chalicelib.learners.histories import Histories
from chalicelib.learners.reference_cache import ReferenceCache
from chalicelib.storage.store import Store
from chalicelib.study.due_words import DueWords
from chalicelib.study.reference_data import ReferenceData
from chalicelib.study.reviews import Reviews
from chalicelib.study.sessions import Sessions, utc_now


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

    @classmethod
    def build(cls, store: Store, cache: ReferenceCache, histories: Histories,
              clock: Callable[[], datetime] = utc_now, erasure_seconds: float = 0) -> "Services":
        references = ReferenceData(cache)
        return cls(Sessions(store, cache, references, histories, clock),
                   Reviews(store, cache, histories, clock), DueWords(store, cache, histories.owner, clock),
                   references, store, cache, histories, clock, erasure_seconds)

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
