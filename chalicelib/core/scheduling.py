"""Spaced-repetition scheduling: each learner's memory of each word, FSRS-6 as the `fsrs`
package computes it with the learner's scheduler settings (``SchedulerSettings``: the 21
parameters and the desired retention; fsrs's defaults and 0.9 until the learner changes them),
its default learning steps, a correct answer rated Good and a wrong one Again.

A word's memory is, by definition, the scheduler's replay of the owner's reviews of it sorted by
their reviewed_key: reviewed_at, then the order written (chalicelib.storage.schema). A review later than
the word's last one advances the stored state (the floats are stored as their shortest repr, so
this equals the replay); an earlier one replays the word's reviews from the start. Fuzzing is
off: `due` then follows from what is stored, and a rebuild (chalicelib.streams.audit) reproduces it.

Each memory records the ``version`` of the settings it was computed with (absent: 0, the
defaults): a stored state is advanced only with the settings of its own version; a word whose
memory has another version is replayed whole with the current settings.
Pure: the store reads and writes what this computes. `fsrs` is imported on first use, not on a
create's cold start; its scheduler is built once per distinct settings."""
import functools
from datetime import UTC, datetime
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple

from chalicelib.core.validation import format_timestamp

STATE_NAMES = {1: "learning", 2: "review", 3: "relearning"}
NEW = "new"  # a word never reviewed
# What a memory item holds of a card; plus `applied` (its number of reviews) and `last_key`.
CARD_FIELDS = ("state", "step", "stability", "difficulty", "due", "last_review")
# The memory a review's answer shows, as attributes of the stored review: "memory_<field>".
SNAPSHOT_FIELDS = ("state", "stability", "difficulty", "due", "retrievability")
SNAPSHOT_PREFIX = "memory_"


# fsrs 6.3.2's default parameters (fsrs.scheduler.DEFAULT_PARAMETERS; tests/test_scheduler.py
# checks them): spelled out so that knowing them does not import fsrs.
DEFAULT_PARAMETERS = (0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666,
                      0.796, 1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542)
PARAMETER_COUNT = 21
DEFAULT_RETENTION = 0.9
MIN_RETENTION, MAX_RETENTION = 0.70, 0.97  # what a learner may choose
FITTED, DEFAULT = "fitted", "default"  # where a scheduler's parameters come from


class SchedulerSettings(NamedTuple):
    """A learner's scheduler: what every memory of theirs is computed with. ``version`` counts
    its changes (0: the defaults, never changed)."""
    parameters: Tuple[float, ...] = DEFAULT_PARAMETERS
    desired_retention: float = DEFAULT_RETENTION
    version: int = 0


DEFAULT_SETTINGS = SchedulerSettings()


def settings_of(item: Optional[dict]) -> SchedulerSettings:
    """The settings a stored scheduler item holds (chalicelib.storage.schema.SCHEDULER_WORD_ID);
    the defaults when there is none, or for what it leaves out."""
    if not item:
        return DEFAULT_SETTINGS
    parameters = item.get("parameters")
    return SchedulerSettings(
        tuple(float(number) for number in parameters) if parameters else DEFAULT_PARAMETERS,
        float(item.get("desired_retention", DEFAULT_RETENTION)), int(item.get("version", 0)))


def memory_version(memory: Optional[dict]) -> int:
    """The version of the settings a stored memory was computed with."""
    return int(memory.get("version", 0)) if memory else 0


class Answer(NamedTuple):
    key: str  # "<reviewed_at>#<review id>": the order of replay
    correct: bool


def answer_key(reviewed_at: str, review_id: str) -> str:
    return f"{reviewed_at}#{review_id}"


class MemoryUpdate(NamedTuple):
    """What one write does to one word's memory."""
    word_id: int
    fields: dict  # the state after it: CARD_FIELDS, applied, last_key (and version, unless 0)
    applied_before: Optional[int]  # the stored state's count, None when there was none
    version_before: int = 0  # the stored state's version: the write requires it still


def _fsrs(settings: SchedulerSettings = DEFAULT_SETTINGS):
    return _scheduler(tuple(settings.parameters), settings.desired_retention)


@functools.lru_cache(maxsize=64)
def _scheduler(parameters: Tuple[float, ...], desired_retention: float):
    """fsrs and its scheduler for these settings: built once per distinct value."""
    import fsrs

    return fsrs, fsrs.Scheduler(parameters=parameters, desired_retention=desired_retention,
                                enable_fuzzing=False)


def _versioned(fields: dict, settings: SchedulerSettings) -> dict:
    return {**fields, "version": settings.version} if settings.version else fields


def _moment(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _card(word_id: int, fields: Optional[dict]):
    fsrs, _ = _fsrs()
    if fields is None:
        return fsrs.Card(card_id=word_id)
    state = {name: number for number, name in STATE_NAMES.items()}[fields["state"]]
    return fsrs.Card(card_id=word_id, state=fsrs.State(state), step=fields.get("step"),
                     stability=fields["stability"], difficulty=fields["difficulty"],
                     due=_moment(fields["due"]), last_review=_moment(fields["last_review"]))


def _fields(card) -> dict:
    fields = {"state": STATE_NAMES[int(card.state)], "stability": card.stability,
              "difficulty": card.difficulty, "due": format_timestamp(card.due),
              "last_review": format_timestamp(card.last_review)}
    if card.step is not None:
        fields["step"] = int(card.step)
    return fields


def card_fields(item: dict) -> dict:
    return {name: item[name] for name in CARD_FIELDS if name in item}


def retrievability(fields: Optional[dict], at: datetime,
                   settings: SchedulerSettings = DEFAULT_SETTINGS) -> Optional[float]:
    """The predicted probability of recall at ``at``; None for a word never reviewed."""
    if fields is None:
        return None
    _, scheduler = _fsrs(settings)
    return scheduler.get_card_retrievability(_card(0, fields), at)


def _review(word_id: int, fields: Optional[dict], answers: Iterable[Answer], settings: SchedulerSettings
            ) -> Tuple[Optional[dict], Dict[str, dict]]:
    """The state after ``answers`` (in key order) from ``fields``; and by key, each answer's
    snapshot: the retrievability just before it, the state after it."""
    fsrs, scheduler = _fsrs(settings)
    card, snapshots = _card(word_id, fields), {}
    for answer in sorted(answers):
        at = _moment(answer.key.split("#", 1)[0])
        before = scheduler.get_card_retrievability(card, at) if fields is not None else None
        card, _ = scheduler.review_card(card, fsrs.Rating.Good if answer.correct else fsrs.Rating.Again, at)
        fields = _fields(card)
        snapshots[answer.key] = {**{name: fields[name] for name in SNAPSHOT_FIELDS[:-1]},
                                 "retrievability": before}
    return fields, snapshots


def replay(word_id: int, answers: Iterable[Answer], settings: SchedulerSettings = DEFAULT_SETTINGS
           ) -> Optional[dict]:
    """The memory of a word from its whole history: CARD_FIELDS, applied, last_key, and the
    settings' version unless 0."""
    answers = sorted(answers)
    fields, _ = _review(word_id, None, answers, settings)
    return fields and _versioned({**fields, "applied": len(answers), "last_key": answers[-1].key}, settings)


def replayed_words(reviews: List[dict], stored: Dict[int, dict], settings: SchedulerSettings) -> List[int]:
    """The words a round of reviews replays whole: those with a review before the last one
    applied, and those whose memory was computed with other settings than ``settings``."""
    behind = {review["word_id"] for review in reviews if review["word_id"] in stored
              and memory_version(stored[review["word_id"]]) != settings.version}
    return sorted(set(late_words(reviews, stored)) | behind)


def late_words(reviews: List[dict], stored: Dict[int, dict]) -> List[int]:
    """The words of which a review comes before the last one applied: those are replayed."""
    return sorted({review["word_id"] for review in reviews if review["word_id"] in stored
                   and review["reviewed_key"] < stored[review["word_id"]]["last_key"]})


def plan(reviews: List[dict], stored: Dict[int, dict], histories: Dict[int, List[Answer]],
         settings: SchedulerSettings = DEFAULT_SETTINGS) -> List[MemoryUpdate]:
    """The memory updates of a round of reviews, and each review's snapshot written into it,
    computed with ``settings``. ``stored``: the words' memory items; ``histories``: the stored
    answers of the words replayed whole (replayed_words): every other word's stored state is of
    these settings' version."""
    by_word: Dict[int, List[dict]] = {}
    for review in reviews:
        by_word.setdefault(review["word_id"], []).append(review)
    updates = []
    for word_id, of_word in sorted(by_word.items()):
        new = [Answer(review["reviewed_key"], review["correct"]) for review in of_word]
        memory = stored.get(word_id)
        if word_id in histories:
            start, answers = None, histories[word_id] + new
        elif memory and memory_version(memory) != settings.version:
            raise ValueError(f"word {word_id}: a memory of version {memory_version(memory)} is not "
                             f"advanced with settings of version {settings.version}: replay it")
        else:
            start, answers = (card_fields(memory) if memory else None), new
        fields, snapshots = _review(word_id, start, answers, settings)
        for review in of_word:
            snapshot = snapshots[review["reviewed_key"]]
            review.update({SNAPSHOT_PREFIX + name: snapshot[name] for name in SNAPSHOT_FIELDS
                           if snapshot[name] is not None})
        applied = memory["applied"] if memory else None
        last_key = max(([memory["last_key"]] if memory else []) + [answer.key for answer in new])
        updates.append(MemoryUpdate(word_id, _versioned({**fields, "applied": (applied or 0) + len(new),
                                                         "last_key": last_key}, settings),
                                    applied, memory_version(memory)))
    return updates


def snapshot_json(review: dict) -> Optional[dict]:
    """The memory a stored review's answer shows; None for a review stored before scheduling."""
    if SNAPSHOT_PREFIX + "state" not in review:
        return None
    return {name: review.get(SNAPSHOT_PREFIX + name) for name in SNAPSHOT_FIELDS}
