"""Audit and rebuild of what is derived from the stored sessions and reviews: every aggregate item
recounted, every memory item (chalicelib.core.scheduling) replayed, compared with their tables, and
written over them on request. The operator's
way back when the consumer missed records (disabled for longer than the streams' 24 h), and a
check that it did not. It scans both tables: run it off the request path (`make audit`, or
`python -m devtools.audit --stage <stage>` with the stage's AWS credentials).

Only live histories are judged: the items of an epoch a reset or an erasure replaced are
waiting for the purge (chalicelib.streams.purge), and the consumer rightly stops counting such an epoch
the moment it is replaced, so they are listed apart (``awaiting_purge``), never compared, and
never rebuilt."""
from typing import Callable, Dict, List, Mapping, NamedTuple, Tuple

from chalicelib.core.scheduling import (
    DEFAULT_SETTINGS,
    Answer,
    SchedulerSettings,
    answer_key,
    memory_version,
    replay,
    settings_of,
)
from chalicelib.storage.dynamo import from_item, to_item
from chalicelib.storage.schema import (
    ERASED,
    HISTORY,
    ROUND_MARK,
    ROUND_REVIEWS,
    SCHEDULER_WORD_ID,
    WORD_COUNTER_PREFIXES,
    erased_mark,
    round_review,
    split_owner,
    word_history,
)
from chalicelib.streams.aggregates import count_on_session, recount

Key = Tuple[str, str]


class Findings(NamedTuple):
    differences: list  # (key, what the stored sessions and reviews say, what the table holds)
    awaiting_purge: list  # keys of replaced histories' items: not compared
    behind: list = []  # keys of memories older than their learner's scheduler: a recompute pending


def live_owners(client, tables: Mapping[str, str]) -> Callable[[str], bool]:
    """Whether an owner ("<learner>#<epoch>") is its learner's current history: not an epoch a
    reset replaced, not an erased learner's (by their history item, or their erased mark once
    the purge deleted that)."""
    items = _scan(client, tables["aggregates"])
    histories = {item["learner"]: item for item in items if item["item"] == HISTORY}
    marks = {item["learner"] for item in items if item["item"] == ERASED}

    def live(owner_: str) -> bool:
        learner, epoch = split_owner(owner_)
        history = histories.get(learner, {})
        if "erased_at" in history or erased_mark(learner)["learner"] in marks:
            return False
        return epoch is None or epoch >= history.get("epoch", 0)

    return live


def _judge(want: dict, have: dict, owner_of: Callable[[tuple], str], live: Callable[[str], bool]) -> Findings:
    keys = sorted(set(want) | set(have))
    return Findings([(key, want.get(key, {}), have.get(key, {})) for key in keys
                     if live(owner_of(key)) and want.get(key, {}) != have.get(key, {})],
                    [key for key in keys if not live(owner_of(key))])


def _scan(client, table: str) -> List[dict]:
    pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return [from_item(item) for page in pages for item in page["Items"]]


def stored(client, tables: Mapping[str, str]) -> Dict[Key, dict]:
    """The aggregate items as the table holds them, the consumer's markers, the learners'
    epochs and the erased marks left out."""
    items = _scan(client, tables["aggregates"])
    return {(item.pop("learner"), item.pop("item")): item for item in items
            if not item["item"].startswith("seen#") and item["item"] not in (HISTORY, ERASED)}


def expected(client, tables: Mapping[str, str]) -> Dict[Key, dict]:
    return recount(_scan(client, tables["study_sessions"]), _scan(client, tables["word_reviews"]))


def aggregate_findings(client, tables: Mapping[str, str]) -> Findings:
    want, have = expected(client, tables), stored(client, tables)
    live = live_owners(client, tables)  # after the scans: a history replaced meanwhile is not live
    return _judge(want, have, lambda key: key[0], live)


def differences(client, tables: Mapping[str, str]) -> List[Tuple[Key, dict, dict]]:
    """(key, what the stored items say, what the aggregates table holds) where they differ, of
    live histories."""
    return aggregate_findings(client, tables).differences


def rebuild(client, tables: Mapping[str, str]) -> int:
    """Write every differing aggregate item as the recount says; the number of items written.
    Pause the consumer (its event source mapping) meanwhile, or records it applies between the
    scan and the write are lost again."""
    table = tables["aggregates"]
    found = differences(client, tables)
    for (learner, item), want, _ in found:
        key = {"learner": learner, "item": item}
        if want:
            client.put_item(TableName=table, Item=to_item({**key, **want}))
        else:
            client.delete_item(TableName=table, Key=to_item(key))
    return len(found)


def session_figures(session: dict) -> dict:
    """What the consumer keeps on a session item: its reviews' count, per-word counts, end_time."""
    counters = tuple(WORD_COUNTER_PREFIXES.values())
    return {name: value for name, value in session.items()
            if name in ("review_items_count", "end_time") or name.startswith(counters)}


def expected_session_figures(sessions: List[dict], reviews: List[dict]) -> Dict[str, dict]:
    """Per session id, its figures as its stored reviews say they should be: their count, each
    word's correct and wrong answers, and the latest review time not before the session's start."""
    want: Dict[str, dict] = {session["id"]: {} for session in sessions}
    starts = {session["id"]: session["created_at"] for session in sessions}
    for review in reviews:
        if review["study_session_id"] in want:
            count_on_session(want[review["study_session_id"]], review, starts[review["study_session_id"]])
    return want


def session_findings(client, tables: Mapping[str, str]) -> Findings:
    sessions, reviews = _scan(client, tables["study_sessions"]), _scan(client, tables["word_reviews"])
    want = expected_session_figures(sessions, reviews)
    have = {session["id"]: session_figures(session) for session in sessions}
    owners = {session["id"]: session.get("owner", "") for session in sessions}
    return _judge(want, have, owners.__getitem__, live_owners(client, tables))


def rebuild_sessions(client, tables: Mapping[str, str]) -> int:
    """Write every differing session's figures as its reviews say; the number of sessions written.
    Pause the consumer meanwhile, as for rebuild."""
    found = session_findings(client, tables).differences
    for id_, want, have in found:
        names = {f"#f{n}": name for n, name in enumerate(sorted(set(want) | set(have)))}
        sets = [f"{alias} = :{alias[1:]}" for alias, name in names.items() if name in want]
        removes = [alias for alias, name in names.items() if name not in want]
        update = " ".join(([f"SET {', '.join(sets)}"] if sets else []) +
                          ([f"REMOVE {', '.join(removes)}"] if removes else []))
        params = {"TableName": tables["study_sessions"], "Key": to_item({"id": id_}),
                  "UpdateExpression": update, "ExpressionAttributeNames": names}
        if sets:
            params["ExpressionAttributeValues"] = to_item(
                {f":{alias[1:]}": want[name] for alias, name in names.items() if name in want})
        client.update_item(**params)
    return len(found)


MemoryKey = Tuple[str, int]  # (scope, word_id) of the memories table


def schedulers(client, tables: Mapping[str, str]) -> Dict[str, SchedulerSettings]:
    """Each owner's scheduler settings, of those who have a scheduler item (the rest: the defaults)."""
    pages = client.get_paginator("scan").paginate(
        TableName=tables["memories"], ConsistentRead=True, FilterExpression="word_id = :scheduler",
        ExpressionAttributeValues=to_item({":scheduler": SCHEDULER_WORD_ID}))
    items = [from_item(raw) for page in pages for raw in page["Items"]]
    return {item["scope"]: settings_of(item) for item in items}


def expected_memories(client, tables: Mapping[str, str]) -> Dict[MemoryKey, dict]:
    """Every memory item as a replay of the stored reviews with its learner's current scheduler
    settings says it should be: per owner and word its state."""
    answers: Dict[MemoryKey, List[Answer]] = {}
    for review in _scan(client, tables["word_reviews"]):
        if "owner" in review:
            key = (review["owner"], review["word_id"])
            order = review.get("reviewed_key") or answer_key(review["created_at"], review["id"])
            answers.setdefault(key, []).append(Answer(order, review["correct"]))
    settings = schedulers(client, tables)
    return {(owner, word_id): {"owner": owner,
                               **replay(word_id, of_word, settings.get(owner, DEFAULT_SETTINGS))}
            for (owner, word_id), of_word in answers.items()}


def unindexed_reviews(client, tables: Mapping[str, str]) -> List[str]:
    """Ids of the reviews missing from the index by word (stored before scheduling): neither the
    export nor the purge finds them until rebuild_memories indexes them."""
    return sorted(review["id"] for review in _scan(client, tables["word_reviews"])
                  if "owner" in review and "reviewed_key" not in review)


def stored_memories(client, tables: Mapping[str, str]) -> Dict[MemoryKey, dict]:
    """The memory items of words (each owner's scheduler item left out), each its state (the
    reviews a round's item carries are not part of it)."""
    items = _scan(client, tables["memories"])
    return {(item.pop("scope"), item.pop("word_id")): {name: value for name, value in item.items()
                                                       if name not in (ROUND_REVIEWS, ROUND_MARK)}
            for item in items if item["word_id"] != SCHEDULER_WORD_ID}


def unwritten_round_reviews(client, tables: Mapping[str, str]) -> List[dict]:
    """The reviews that rounds committed on their memory items (ROUND_REVIEWS) and whose own items
    are not stored: a crash between the two writes, until the stream consumer writes them
    (chalicelib.streams.rounds)."""
    stored = {review["id"] for review in _scan(client, tables["word_reviews"])}
    live = live_owners(client, tables)
    return [round_review(item, id_, carried) for item in _scan(client, tables["memories"])
            if live(item["scope"]) for id_, carried in item.get(ROUND_REVIEWS, {}).items()
            if id_ not in stored]


def memory_findings(client, tables: Mapping[str, str]) -> Findings:
    """The memories that differ from a replay with their learner's settings; those computed with
    an older version of the settings are listed apart, as behind (their recompute is pending)."""
    live = live_owners(client, tables)
    want, have = expected_memories(client, tables), stored_memories(client, tables)
    versions = {owner: settings.version for owner, settings in schedulers(client, tables).items()}
    found = _judge(want, have, lambda key: (want.get(key) or have[key]).get("owner", key[0]), live)
    behind = [key for key in sorted(have) if live(have[key].get("owner", key[0]))
              and memory_version(have[key]) < versions.get(key[0], 0)]
    return Findings([found_ for found_ in found.differences if found_[0] not in set(behind)],
                    found.awaiting_purge, behind)


def memory_differences(client, tables: Mapping[str, str]) -> List[Tuple[MemoryKey, dict, dict]]:
    """(key, what a replay of the reviews says, what the memories table holds) where they differ,
    of live histories."""
    return memory_findings(client, tables).differences


def rebuild_memories(client, tables: Mapping[str, str]) -> int:
    """Write every differing memory item, and every one behind its learner's scheduler, as the
    replay with the learner's settings says (and index the reviews stored before scheduling, for
    chalicelib.storage.schema.REVIEWS_BY_WORD); the number of items written.
    Run it while no review is written: one applied between the scan and the write is lost.
    A round's reviews its memory items carry, unwritten, are written first."""
    for review in unwritten_round_reviews(client, tables):
        client.put_item(TableName=tables["word_reviews"], Item=to_item(review),
                        ConditionExpression="attribute_not_exists(id)")
    for review in _scan(client, tables["word_reviews"]):
        if "owner" in review and "reviewed_key" not in review:
            client.update_item(
                TableName=tables["word_reviews"], Key=to_item({"id": review["id"]}),
                UpdateExpression="SET owner_word = :word, reviewed_key = :key",
                ExpressionAttributeValues=to_item({
                    ":word": word_history(review["owner"], review["word_id"]),
                    ":key": answer_key(review["created_at"], review["id"])}))
    findings = memory_findings(client, tables)
    replayed = expected_memories(client, tables)
    found = findings.differences + [(key, replayed.get(key, {}), None) for key in findings.behind]
    for (scope, word_id), want, _ in found:
        key = {"scope": scope, "word_id": word_id}
        if want:
            client.put_item(TableName=tables["memories"], Item=to_item({**key, **want}))
        else:
            client.delete_item(TableName=tables["memories"], Key=to_item(key))
    return len(found)


def learner_items(client, tables: Mapping[str, str], learner: str) -> List[Tuple[str, dict]]:
    """(table, item) of every item stored anywhere that names the learner: in its key, in an
    index's key, or as its owner. After an erasure completes: none."""
    prefix = f"{learner}#"
    return [(logical, item) for logical, table in tables.items() for item in _scan(client, table)
            if any(isinstance(value, str) and (value == learner or value.startswith(prefix))
                   for value in item.values())]
