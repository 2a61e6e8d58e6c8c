"""The service layer, one object a resource: sessions, reviews, due words and reference data; the
dashboard and the portal's catalog pages are built on them when first used (imported then: a
create's cold start loads only what a create uses)."""
from datetime import datetime
from typing import Callable, NamedTuple

from chalicelib.due_words import DueWords
from chalicelib.histories import Histories
from chalicelib.reference_data import ReferenceData
from chalicelib.references import ReferenceCache
from chalicelib.reviews import Reviews
from chalicelib.sessions import Sessions, utc_now
from chalicelib.store import DynamoStore


class Services(NamedTuple):
    sessions: Sessions
    reviews: Reviews
    due_words: DueWords
    references: ReferenceData
    store: DynamoStore
    cache: ReferenceCache
    histories: Histories
    clock: Callable[[], datetime]
    erasure_seconds: float  # how long an erased learner's data outlives the request, at most

    @classmethod
    def build(cls, store: DynamoStore, cache: ReferenceCache, histories: Histories,
              clock: Callable[[], datetime] = utc_now, erasure_seconds: float = 0) -> "Services":
        references = ReferenceData(cache)
        return cls(Sessions(store, cache, references, histories, clock),
                   Reviews(store, cache, histories, clock), DueWords(store, cache, histories.owner, clock),
                   references, store, cache, histories, clock, erasure_seconds)

    def learner_data(self):
        """Export and erasure of a learner's data (chalicelib.data_rights)."""
        from chalicelib.data_rights import LearnerData

        return LearnerData(self.store, self.cache, self.histories, self.clock, self.erasure_seconds)

    def dashboard(self):
        from chalicelib.dashboard import Dashboard

        return Dashboard(self.store, self.cache, self.histories.owner, self.clock)

    def catalog(self):
        """The words and groups pages, on the sessions' group pages."""
        from chalicelib.catalog import Catalog

        return Catalog(self.store, self.cache, self.histories.owner,
                       self.sessions.numbered_group_sessions, self.sessions.recent_group_sessions)
