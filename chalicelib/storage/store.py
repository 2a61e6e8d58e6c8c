"""The store: one repository per aggregate, built once per container over one client and the
request's attempts. The services take the repositories they use from it."""
from typing import Mapping, NamedTuple

from chalicelib.storage.aggregate_repository import AggregateRepository
from chalicelib.storage.deadline import Attempts
from chalicelib.storage.history_repository import HistoryRepository
from chalicelib.storage.memory_repository import MemoryRepository
from chalicelib.storage.reference_repository import ReferenceRepository
from chalicelib.storage.review_repository import ReviewRepository
from chalicelib.storage.scheduler_repository import SchedulerRepository
from chalicelib.storage.session_repository import SessionRepository


class Store(NamedTuple):
    references: ReferenceRepository
    sessions: SessionRepository
    reviews: ReviewRepository
    memories: MemoryRepository
    histories: HistoryRepository
    aggregates: AggregateRepository
    scheduler: SchedulerRepository


def build_store(client, tables: Mapping[str, str], attempts: Attempts) -> Store:
    """``tables``: logical name (as in chalicelib.storage.schema.TABLES) -> DynamoDB table name."""
    return Store(references=ReferenceRepository(client, tables, attempts),
                 sessions=SessionRepository(client, tables, attempts),
                 reviews=ReviewRepository(client, tables, attempts),
                 memories=MemoryRepository(client, tables, attempts),
                 histories=HistoryRepository(client, tables, attempts),
                 aggregates=AggregateRepository(client, tables, attempts),
                 scheduler=SchedulerRepository(client, tables, attempts))
