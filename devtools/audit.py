"""`make audit`: recount every aggregate and replay every word's memory from the stored sessions
and reviews, and print any difference of a live history (what a reset or an erasure replaced
awaits the purge: counted apart, not compared); `--rebuild` writes them over the aggregates and
memories tables. Each memory is replayed with its learner's scheduler settings; one computed with
an older version of them (a recompute pending) is reported as behind.

    python -m devtools.audit [--stage local] [--rebuild]
    python -m devtools.audit [--stage local] --learner <sub>    (after an erasure: nothing left?)

Locally it reads `make run`'s DynamoDB Local (DYNAMODB_PORT, 8001 by default); for a deployed
stage (`--stage dev`) it uses the AWS credentials and region of the environment. Exit code 1
when something differed (and was not rebuilt)."""
import argparse
import json
import os
import sys

import boto3
from botocore.exceptions import EndpointConnectionError

from chalicelib.streams.audit import (
    aggregate_findings,
    expected,
    expected_memories,
    learner_items,
    memory_findings,
    rebuild,
    rebuild_memories,
    rebuild_sessions,
    session_findings,
    unindexed_reviews,
    unwritten_round_reviews,
)
from devtools import dynamodb_local
from devtools.local_run import DEFAULT_DYNAMODB_PORT
from devtools.stage import table_names


def client_for(stage: str):
    if stage != "local":
        return boto3.client("dynamodb")
    port = int(os.environ.get("DYNAMODB_PORT", DEFAULT_DYNAMODB_PORT))
    return dynamodb_local.client(f"http://127.0.0.1:{port}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local")
    parser.add_argument("--rebuild", action="store_true", help="write the recount over what differs")
    parser.add_argument("--learner", help="instead: every item that names this learner (after an erasure)")
    args = parser.parse_args()
    client, names = client_for(args.stage), table_names(args.stage)
    if args.learner:
        return erased(client, names, args.learner)
    try:
        return audit(client, names, args.rebuild)
    except EndpointConnectionError:
        print(f"make audit: no DynamoDB at {client.meta.endpoint_url}: start make run first "
              f"(DYNAMODB_PORT, {DEFAULT_DYNAMODB_PORT} by default, says where it listens).", file=sys.stderr)
        return 1


def audit(client, names, rebuild_differences: bool = False) -> int:
    """Print what differs in live histories, and how much awaits the purge; 1 if something
    differed and was not rebuilt."""
    aggregates, memories = aggregate_findings(client, names), memory_findings(client, names)
    sessions = session_findings(client, names)
    found, differing, counted = aggregates.differences, memories.differences, sessions.differences
    unindexed = unindexed_reviews(client, names)
    unwritten = unwritten_round_reviews(client, names)
    behind = memories.behind
    for (learner, item), want, have in found:
        print(json.dumps({"learner": learner, "item": item, "recounted": want, "stored": have},
                         default=sorted))
    for (scope, word_id), want, have in differing:
        print(json.dumps({"scope": scope, "word_id": word_id, "replayed": want, "stored": have},
                         default=sorted))
    if aggregates.awaiting_purge or memories.awaiting_purge:
        print(f"{len(aggregates.awaiting_purge)} aggregate items and {len(memories.awaiting_purge)} memory "
              "items belong to histories a reset or an erasure replaced, awaiting the purge: not compared.")
    for id_, want, have in counted:
        print(json.dumps({"session": id_, "recounted": want, "stored": have}))
    if behind:
        owners = len({scope for scope, _ in behind})
        print(f"{len(behind)} memory items of {owners} learners were computed with an older version of their "
              "learner's scheduler: a recompute is pending (it follows a change within seconds; --rebuild "
              "replays them with the current settings).")
    if unindexed:
        print(f"{len(unindexed)} reviews are missing from the index by word (stored before scheduling): "
              "neither the export nor the purge finds them until --rebuild indexes them.")
    if unwritten:
        print(f"{len(unwritten)} reviews of committed rounds are not stored yet (the stream consumer "
              "writes them from the rounds' memory items; --rebuild writes them now).")
    if (found or differing or counted or unindexed or behind or unwritten) and rebuild_differences:
        print(f"Rebuilt {rebuild(client, names)} aggregate items, {rebuild_memories(client, names)} "
              f"memory items and the figures of {rebuild_sessions(client, names)} sessions.")
        return 0
    if found or differing or counted or unindexed or behind or unwritten:
        print(f"{len(found)} aggregate items differ from a recount, {len(differing)} memory items from a "
              f"replay of the reviews and {len(counted)} sessions' figures from their reviews (--rebuild "
              "writes them).")
        return 1
    live = len(set(expected(client, names)) - set(aggregates.awaiting_purge))
    live_memories = len(set(expected_memories(client, names)) - set(memories.awaiting_purge))
    print(f"All {live} aggregate items equal a recount of the stored sessions and reviews, all "
          f"{live_memories} memory items a replay of the reviews, and every session's figures its reviews.")
    return 0


def erased(client, names, learner: str) -> int:
    found = learner_items(client, names, learner)
    for table, item in found:
        print(json.dumps({"table": table, "item": item}, default=sorted))
    if found:
        print(f"{len(found)} items name learner {learner}.")
        return 1
    print(f"No item in any table or index names learner {learner}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
