"""A learner's rights over their data: a copy of all of it, and its erasure with the account.

Export pages through the learner's items, part by part (sessions, reviews, memories,
aggregates, and their scheduler: its parameters, retention and fits), each part epoch by epoch
(a reset history not yet purged is still theirs): a page holds at most `limit` items (100 by
default), so no answer grows with the history, and its cursor names the last item it showed.
Erasure marks the learner erased (their tokens are refused from then on,
chalicelib.learners.histories) and hands every epoch to the purge, which deletes their Cognito
user and then their items off the request path, as it deletes a reset's leftovers
(chalicelib.streams.purge). Erasing again writes nothing."""
from datetime import UTC, datetime, timedelta
from typing import Callable, List, Optional, Tuple

from chalicelib.core.errors import Forbidden, ValidationFailed
from chalicelib.core.pagination import (
    INVALID_CURSOR,
    a_count,
    a_session_id,
    a_stored_time,
    an_id,
    decode_cursor,
    encode_cursor,
    exactly,
)
from chalicelib.core.scheduling import CARD_FIELDS
from chalicelib.core.validation import format_timestamp, parse_limit
from chalicelib.learners.histories import Histories
from chalicelib.learners.identity import Identity
from chalicelib.learners.reference_cache import ReferenceCache
from chalicelib.storage.dynamo import Item
from chalicelib.storage.scheduler_repository import FIT_SENT, RECOMPUTE_PENDING
from chalicelib.storage.schema import AGGREGATE_ITEM, SESSIONS_NEWEST, owner, word_history
from chalicelib.storage.store import Store
from chalicelib.study.representation import review_json
from chalicelib.study.sessions import named_sessions

PARTS = ("sessions", "reviews", "memories", "aggregates", "scheduler")
# what the scheduler's item holds beside the learner's data: its key, and what its messages' sends need
SCHEDULER_KEY = ("scope", "word_id", "owner", FIT_SENT, RECOMPUTE_PENDING)
DEFAULT_EXPORT_PAGE = 100
WORDS_A_READ = 100  # the learner's words, read this many at a time while their reviews are listed
CONSUMER_MARKERS, PAST_MARKERS = "seen#", "seen$"  # the aggregates consumer's bookkeeping sorts between
EXPORT = "export"


def _a_reviewed_key(key) -> bool:
    """"<reviewed_at>#<order>", the order an id as the API makes them (schema.REVIEWS_BY_WORD)."""
    if not isinstance(key, str) or key.count("#") != 1:
        return False
    reviewed_at, order = key.split("#")
    return a_stored_time(reviewed_at) and a_session_id(order)


def _an_aggregate_item(name) -> bool:
    return isinstance(name, str) and AGGREGATE_ITEM.fullmatch(name) is not None


# A cursor names the last item a page showed: its part, epoch and key. It cannot point between
# two parts (the next part's first item is found from there), nor at what was never shown.
CURSOR_SHAPES = (
    (exactly("sessions"), a_count, a_stored_time, a_session_id),  # created_at, id: the newest first
    (exactly("reviews"), a_count, an_id, _a_reviewed_key),  # word id, then the order of its replay
    (exactly("memories"), a_count, an_id),  # word id
    (exactly("aggregates"), a_count, _an_aggregate_item),  # item name
    (exactly("scheduler"), a_count),  # an epoch's one scheduler item
)
Found = Tuple[tuple, dict]  # an item's key in its part, and the item as exported


class LearnerData:
    def __init__(self, store: Store, references: ReferenceCache, histories: Histories,
                 clock: Callable[[], datetime], erasure_seconds: float):
        """``erasure_seconds``: how long after the request the purge has deleted it all."""
        self._store = store
        self._references = references
        self._histories = histories
        self._clock = clock
        self._erasure_seconds = erasure_seconds

    def export(self, identity: Identity, query: dict) -> Tuple[dict, str]:
        """One page of everything stored for the learner, and the name to save it under: up to
        ``limit`` items after the cursor's, in part, epoch and key order. Each part tells
        whether more of it follow; a page that ends with a part asks the next ones (a read of
        one key) whether anything does, so the last page is the one that says so."""
        limit = parse_limit(query.get("limit"), DEFAULT_EXPORT_PAGE)
        position = decode_cursor(query.get("cursor"), EXPORT, *CURSOR_SHAPES)
        self._histories.owner(identity.sub)  # an erased learner's token is refused
        epochs = self._histories.epochs(identity.sub)
        if position and position[1] >= epochs.stop:
            raise ValidationFailed(INVALID_CURSOR)  # an epoch that has not begun
        resume = (PARTS.index(position[0]), position[1]) if position else (0, epochs.start)
        found: List[Tuple[str, int, Found]] = []
        more = False
        for part, epoch in ((part, epoch) for part in PARTS for epoch in epochs):
            if (PARTS.index(part), epoch) < resume:
                continue  # before the cursor's item; an epoch purged since is simply not there
            after = tuple(position[2:]) if position and (part, epoch) == (position[0], position[1]) else None
            read, more = getattr(self, f"_{part}")(owner(identity.sub, epoch), limit - len(found), after)
            found += [(part, epoch, item) for item in read]
            if more:
                break
        now = self._clock()
        body = {"learner": identity._asdict(), "exported_at": format_timestamp(now),
                **{part: [] for part in PARTS}, "next_cursor": None}
        for part, epoch, (_, item) in found:
            body[part].append({"epoch": epoch, **item})
        if more:
            part, epoch, (key, _) = found[-1]
            body["next_cursor"] = encode_cursor(EXPORT, [part, epoch, *key])
        return body, f"study-sessions-export-{now:%Y%m%dT%H%M%SZ}.json"

    # Each part's reader: up to ``limit`` items (0: none, only whether any follow) strictly after
    # the key ``after``, and whether more follow them.

    def _sessions(self, owner_: str, limit: int, after: Optional[tuple]) -> Tuple[List[Found], bool]:
        keys, more = self._store.sessions.query_sessions(SESSIONS_NEWEST, owner_, limit, after)
        shown = {session["id"]: session for session in named_sessions(
            self._references, self._store.sessions.get_sessions([key["id"] for key in keys]))}
        keyed = [((key["created_at"], key["id"]), shown[key["id"]]) for key in keys if key["id"] in shown]
        return keyed, more

    def _reviews(self, owner_: str, limit: int, after: Optional[tuple]) -> Tuple[List[Found], bool]:
        """Word by word (the words the learner has a memory of), each word's reviews in the
        order they are replayed: the keys of one more than the page, the page's reviews in one
        read."""
        keys: List[Item] = []
        words_after = after[0] - 1 if after else None  # the cursor's word first, after its review
        while len(keys) <= limit:
            words, more_words = self._store.memories.partition_page(owner_, WORDS_A_READ, words_after)
            for word in words:
                of_word, _ = self._store.reviews.partition_page(
                    word_history(owner_, word["word_id"]), limit + 1 - len(keys),
                    after[1] if after and after[0] == word["word_id"] else None)
                keys += [{**key, "word_id": word["word_id"]} for key in of_word]
                if len(keys) > limit:
                    break
            if not more_words:
                break
            words_after = words[-1]["word_id"]
        page = keys[:limit]
        reviews = {item["id"]: item for item in self._store.reviews.get_reviews([key["id"] for key in page])}
        return [((key["word_id"], key["reviewed_key"]), review_json(reviews[key["id"]]))
                for key in page if key["id"] in reviews], len(keys) > limit

    def _memories(self, owner_: str, limit: int, after: Optional[tuple]) -> Tuple[List[Found], bool]:
        items, more = self._store.memories.partition_page(owner_, limit, after[0] if after else None)
        return [((item["word_id"],), {"word_id": item["word_id"], **{n: item.get(n) for n in CARD_FIELDS},
                                      "reviews": item["applied"]}) for item in items], more

    def _aggregates(self, owner_: str, limit: int, after: Optional[tuple]) -> Tuple[List[Found], bool]:
        """The items before the consumer's markers, then those after them: no marker is read."""
        items: List[Item] = []
        more = False
        if after is None or after[0] < CONSUMER_MARKERS:
            items, more = self._store.aggregates.partition_page(owner_, limit, after[0] if after else None,
                                                                before=CONSUMER_MARKERS)
        if not more:
            rest, more = self._store.aggregates.partition_page(owner_, limit - len(items),
                                                               max(after[0] if after else "", PAST_MARKERS))
            items += rest
        return [((item["item"],), {name: sorted(value) if isinstance(value, set) else value
                                   for name, value in item.items() if name != "learner"})
                for item in items], more

    def _scheduler(self, owner_: str, limit: int, after: Optional[tuple]) -> Tuple[List[Found], bool]:
        """The epoch's scheduler item, as stored: parameters, desired retention, version, the
        last fit's figures; none while the learner never changed the defaults."""
        if after is not None:
            return [], False  # the epoch's one item was shown
        item = self._store.scheduler.scheduler(owner_)
        if not item:
            return [], False
        if limit == 0:
            return [], True
        return [((), {name: value for name, value in item.items() if name not in SCHEDULER_KEY})], False

    def erase(self, identity: Identity) -> dict:
        """Erase the learner: their tokens refused now, their account and data within
        ``erasure_seconds``. Once done, the same request again (their token still valid, until
        the purge or after it) reads the mark, writes nothing and answers the same."""
        if not self._histories.erasable:
            raise Forbidden("This stage has no sign-in: there is no account to erase.")
        mark = self._store.histories.erasure(identity.sub)
        now = int(self._clock().timestamp())
        # from the mark on their tokens get 401
        erased_at = mark["erased_at"] if mark else self._store.histories.mark_erased(identity.sub, now)
        if "handed_over" not in mark:
            self._store.histories.purge_every_epoch(identity.sub, erased_at, now)
        erased = datetime.fromtimestamp(erased_at, UTC)
        return {"message": "Your sign-in is refused from now on; your account and your study data will be "
                           "deleted by complete_by.",
                "erased_at": format_timestamp(erased),
                "complete_by": format_timestamp(erased + timedelta(seconds=self._erasure_seconds))}
