"""Audit and rebuild of the aggregates: every aggregate item recounted from the stored sessions
and reviews, compared with the aggregates table, and written over it on request. The operator's
way back when the consumer missed records (disabled for longer than the streams' 24 h), and a
check that it did not. It scans both tables: run it off the request path (`make audit`, or
`python -m devtools.audit --stage <stage>` with the stage's AWS credentials)."""
from typing import Dict, List, Mapping, Tuple

from chalicelib.aggregates import recount
from chalicelib.schema import HISTORY
from chalicelib.store import from_item, to_item

Key = Tuple[str, str]


def _scan(client, table: str) -> List[dict]:
    pages = client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return [from_item(item) for page in pages for item in page["Items"]]


def stored(client, tables: Mapping[str, str]) -> Dict[Key, dict]:
    """The aggregate items as the table holds them, the consumer's markers and the learners'
    epochs left out."""
    items = _scan(client, tables["aggregates"])
    return {(item.pop("learner"), item.pop("item")): item for item in items
            if not item["item"].startswith("seen#") and item["item"] != HISTORY}


def expected(client, tables: Mapping[str, str]) -> Dict[Key, dict]:
    return recount(_scan(client, tables["study_sessions"]), _scan(client, tables["word_reviews"]))


def differences(client, tables: Mapping[str, str]) -> List[Tuple[Key, dict, dict]]:
    """(key, what the stored items say, what the aggregates table holds) where they differ."""
    want, have = expected(client, tables), stored(client, tables)
    return [(key, want.get(key, {}), have.get(key, {})) for key in sorted(set(want) | set(have))
            if want.get(key, {}) != have.get(key, {})]


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
