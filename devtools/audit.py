"""`make audit`: recount every aggregate and replay every word's memory from the stored sessions
and reviews, and print any difference; `--rebuild` writes them over the aggregates and
memories tables.

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

from chalicelib.audit import (
    differences,
    expected,
    expected_memories,
    learner_items,
    memory_differences,
    rebuild,
    rebuild_memories,
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
        found, memories = differences(client, names), memory_differences(client, names)
    except EndpointConnectionError:
        print(f"make audit: no DynamoDB at {client.meta.endpoint_url}: start make run first "
              f"(DYNAMODB_PORT, {DEFAULT_DYNAMODB_PORT} by default, says where it listens).", file=sys.stderr)
        return 1
    for (learner, item), want, have in found:
        print(json.dumps({"learner": learner, "item": item, "recounted": want, "stored": have},
                         default=sorted))
    for (scope, word_id), want, have in memories:
        print(json.dumps({"scope": scope, "word_id": word_id, "replayed": want, "stored": have},
                         default=sorted))
    if (found or memories) and args.rebuild:
        print(f"Rebuilt {rebuild(client, names)} aggregate items and {rebuild_memories(client, names)} "
              "memory items.")
        return 0
    if found or memories:
        print(f"{len(found)} aggregate items differ from a recount and {len(memories)} memory items from a "
              "replay of the reviews (--rebuild writes them).")
        return 1
    print(f"All {len(expected(client, names))} aggregate items equal a recount of the stored sessions "
          f"and reviews, and all {len(expected_memories(client, names))} memory items a replay of the "
          "reviews.")
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
