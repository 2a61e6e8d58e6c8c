"""`make fit`: every learner due a fit, queued and fitted now, on the local stage (make run's
DynamoDB Local, DYNAMODB_PORT): the nightly schedule's function (app.fit_learners_due) puts
their messages on the local fit queue, and the fitting function runs on each one, as the poller of
`make run` would (which may take some first: a message handled twice fits once).

    python -m devtools.fit_due
"""
import json
import os
import sys


def main() -> int:
    from devtools import dynamodb_local
    from devtools.local_run import DEFAULT_DYNAMODB_PORT, chalice_environment
    from devtools.stage import stage_environment
    from devtools.stream_poller import _Context, scheduled_event

    endpoint = f"http://127.0.0.1:{int(os.environ.get('DYNAMODB_PORT', DEFAULT_DYNAMODB_PORT))}"
    os.environ.update(chalice_environment(endpoint))
    os.environ.update(stage_environment("local"))
    os.environ.update(dynamodb_local.LOCAL_CREDENTIALS)
    import app
    from chalicelib.storage.queues import DirectoryQueue

    queued = app.fit_learners_due(scheduled_event(), _Context())["queued"]
    outcomes = []
    DirectoryQueue(os.environ["FIT_QUEUE_DIR"]).drain(
        lambda event: outcomes.extend(app.fit_learners(event, _Context())["outcomes"]))
    print(json.dumps({"queued": queued, "fitted": outcomes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
