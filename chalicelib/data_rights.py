"""A learner's rights over their data: a copy of all of it, and its erasure with the account.

Export pages through the learner's items, part by part (sessions, reviews, memories,
aggregates), each part epoch by epoch (a reset history not yet purged is still theirs): a page
holds at most `limit` items (100 by default), so no answer grows with the history. Erasure marks
the learner erased (their tokens are refused from then on, chalicelib.histories) and hands every
epoch to the purge, which deletes their Cognito user and then their items off the request path,
as it deletes a reset's leftovers (chalicelib.purge). Erasing again writes nothing."""
from datetime import UTC, datetime, timedelta
from typing import Callable, List, Optional, Tuple

from chalicelib.errors import Forbidden, ValidationFailed
from chalicelib.histories import Histories
from chalicelib.learners import Identity
from chalicelib.pagination import INVALID_CURSOR, decode_cursor, encode_cursor
from chalicelib.references import ReferenceCache
from chalicelib.representation import review_json
from chalicelib.scheduling import CARD_FIELDS
from chalicelib.schema import REVIEWS_BY_WORD, SESSIONS_NEWEST, owner, word_history
from chalicelib.sessions import named_sessions
from chalicelib.store import DynamoStore, Item
from chalicelib.validation import format_timestamp, parse_limit

PARTS = ("sessions", "reviews", "memories", "aggregates")
DEFAULT_EXPORT_PAGE = 100
WORDS_A_READ = 100  # the learner's words, read this many at a time while their reviews are listed
NOTHING = "-"  # a cursor's empty position
CONSUMER_MARKERS = "seen#"  # the aggregates consumer's bookkeeping, not the learner's data
PAST_CONSUMER_MARKERS = "seen$"  # the first name after every "seen#…" ("$" follows "#")


class LearnerData:
    def __init__(self, store: DynamoStore, references: ReferenceCache, histories: Histories,
                 clock: Callable[[], datetime], erasure_seconds: float):
        """``erasure_seconds``: how long after the request the purge has deleted it all."""
        self._store = store
        self._references = references
        self._histories = histories
        self._clock = clock
        self._erasure_seconds = erasure_seconds

    def export(self, identity: Identity, query: dict) -> Tuple[dict, str]:
        """One page of everything stored for the learner, and the name to save it under."""
        limit = parse_limit(query.get("limit"), DEFAULT_EXPORT_PAGE)
        position = decode_cursor(query.get("cursor"), "export", (str, str, str, str))
        self._histories.owner(identity.sub)  # an erased learner's token is refused
        epochs = list(self._histories.epochs(identity.sub))
        chunks = [(part, epoch) for part in PARTS for epoch in epochs]
        start, after = 0, None
        if position:
            part, epoch, first, second = position
            if (part, _number(epoch)) not in chunks:
                raise ValidationFailed(INVALID_CURSOR)
            start, after = chunks.index((part, _number(epoch))), (first, second)
        now = self._clock()
        body = {"learner": identity._asdict(), "exported_at": format_timestamp(now),
                **{part: [] for part in PARTS}, "next_cursor": None}
        for index in range(start, len(chunks)):
            part, epoch = chunks[index]
            room = limit - sum(len(body[name]) for name in PARTS)
            if room == 0:
                body["next_cursor"] = encode_cursor("export", [part, str(epoch), NOTHING, NOTHING])
                break
            items, resume = getattr(self, f"_{part}")(owner(identity.sub, epoch), room, after)
            body[part] += [{"epoch": epoch, **item} for item in items]
            after = None
            if resume:
                body["next_cursor"] = encode_cursor("export", [part, str(epoch), *resume])
                break
        return body, f"study-sessions-export-{now:%Y%m%dT%H%M%SZ}.json"

    def _sessions(self, owner_: str, limit: int, after) -> Tuple[List[dict], Optional[list]]:
        keys, more = self._store.query_sessions(SESSIONS_NEWEST, owner_, limit,
                                                list(after) if after else None)
        shown = named_sessions(self._references, self._store.get_sessions([key["id"] for key in keys]))
        return shown, [keys[-1]["created_at"], keys[-1]["id"]] if more else None

    def _reviews(self, owner_: str, limit: int, after) -> Tuple[List[dict], Optional[list]]:
        """Word by word (the words the learner has a memory of), each word's reviews in order."""
        # resume at the cursor's word (after its key), else at the first word
        words_after, key_after = (int(after[0]) - 1, None if after[1] == NOTHING else after[1]) if after \
            else (0, None)
        found: List[Item] = []
        while True:
            words, more_words = self._store.partition_page("memories", owner_, WORDS_A_READ, words_after)
            for word in words:
                word_id = word["word_id"]
                keys, more = self._store.partition_page(
                    "word_reviews", word_history(owner_, word_id), limit - len(found), key_after,
                    index=REVIEWS_BY_WORD)
                key_after = None
                found += self._store.get_reviews([key["id"] for key in keys])
                if more:
                    return [review_json(r) for r in found], [str(word_id), keys[-1]["reviewed_key"]]
                if len(found) == limit:
                    return [review_json(r) for r in found], [str(word_id + 1), NOTHING]
            if not more_words:
                return [review_json(r) for r in found], None
            words_after = words[-1]["word_id"]

    def _memories(self, owner_: str, limit: int, after) -> Tuple[List[dict], Optional[list]]:
        items, more = self._store.partition_page("memories", owner_, limit, int(after[0]) if after else None)
        shown = [{"word_id": item["word_id"], **{name: item.get(name) for name in CARD_FIELDS},
                  "reviews": item["applied"]} for item in items]
        return shown, [str(items[-1]["word_id"]), NOTHING] if more else None

    def _aggregates(self, owner_: str, limit: int, after) -> Tuple[List[dict], Optional[list]]:
        """The owner's aggregates in item order, read around the consumer's markers ("seen#…",
        which sort between "group#…" and "totals"), so that no page is empty for them."""
        position, found = after[0] if after else None, []
        for bound in (("<", CONSUMER_MARKERS), (">=", PAST_CONSUMER_MARKERS)):
            if position is not None and (position >= CONSUMER_MARKERS) != (bound[0] == ">="):
                continue  # the cursor is past this range
            start = position if position is None or position < CONSUMER_MARKERS \
                or position >= PAST_CONSUMER_MARKERS else None  # (on a marker: the range's start)
            items, more = self._store.aggregate_page(owner_, limit - len(found), start, bound)
            position, found = None, found + items
            if more:
                break
        shown = [{name: sorted(value) if isinstance(value, set) else value
                  for name, value in item.items() if name != "learner"} for item in found]
        return shown, [found[-1]["item"], NOTHING] if more else None

    def erase(self, identity: Identity) -> dict:
        """Erase the learner: their tokens refused now, their account and data within
        ``erasure_seconds``. Once done, the same request again (their token still valid, until
        the purge or after it) reads the mark, writes nothing and answers the same."""
        if not self._histories.erasable:
            raise Forbidden("This stage has no sign-in: there is no account to erase.")
        mark = self._store.erasure(identity.sub)
        now = int(self._clock().timestamp())
        # from the mark on their tokens get 401
        erased_at = mark["erased_at"] if mark else self._store.mark_erased(identity.sub, now)
        if "handed_over" not in mark:
            self._store.purge_every_epoch(identity.sub, erased_at, now)
        erased = datetime.fromtimestamp(erased_at, UTC)
        return {"message": "Your sign-in is refused from now on; your account and your study data will be "
                           "deleted by complete_by.",
                "erased_at": format_timestamp(erased),
                "complete_by": format_timestamp(erased + timedelta(seconds=self._erasure_seconds))}


def _number(text: str) -> Optional[int]:
    return int(text) if text.isdigit() else None
