"""`make audit`: recount every aggregate from the stored sessions and reviews and print any
difference; `--rebuild` writes the recount over the aggregates table.

    python -m devtools.audit [--stage local] [--rebuild]

Locally it reads `make run`'s DynamoDB Local (DYNAMODB_PORT, 8001 by default); for a deployed
stage (`--stage dev`) it uses the AWS credentials and region of the environment. Exit code 1
when something differed (and was not rebuilt)."""
import argparse
import json
import os
import sys

import boto3
from botocore.exceptions import EndpointConnectionError

from chalicelib.audit import differences, expected, rebuild
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
    args = parser.parse_args()
    client, names = client_for(args.stage), table_names(args.stage)
    try:
        found = differences(client, names)
    except EndpointConnectionError:
        print(f"make audit: no DynamoDB at {client.meta.endpoint_url}: start make run first "
              f"(DYNAMODB_PORT, {DEFAULT_DYNAMODB_PORT} by default, says where it listens).", file=sys.stderr)
        return 1
    for (learner, item), want, have in found:
        print(json.dumps({"learner": learner, "item": item, "recounted": want, "stored": have},
                         default=sorted))
    if found and args.rebuild:
        print(f"Rebuilt {rebuild(client, names)} aggregate items.")
        return 0
    if found:
        print(f"{len(found)} aggregate items differ from a recount (--rebuild writes the recount).")
        return 1
    print(f"All {len(expected(client, names))} aggregate items equal a recount of the stored sessions "
          "and reviews.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
