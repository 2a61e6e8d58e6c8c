"""What Lambda's event source mappings do for the aggregates consumer, on DynamoDB Local:

    python -m devtools.stream_poller --stage local     (AWS_ENDPOINT_URL_DYNAMODB set)

It reads the streams of the sessions, reviews and memories tables and hands each batch of records to
the consumer, shaped as Lambda shapes them (`eventSourceARN` added, which DynamoDB Local's
records lack; timestamps as epoch seconds), from where the last run stopped (--positions); a
batch whose answer lists `batchItemFailures` is
handed again from the first failed record, up to MAX_RETRIES times, as the deployed mapping is
configured. Only the records the mapping's filter matches are handed on
(devtools.consumer_template.FILTERS). It also invokes the
scheduled purge of reset histories (chalicelib.streams.purge) every PURGE_SECONDS, with an event shaped
as EventBridge's. `make run` starts it with the servers, and it stops with them.
"""
import argparse
import json
import logging
import os
import signal
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Callable, Dict, List, Optional

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from devtools.consumer_template import FILTERS
from devtools.local_auth import signed_in_environment
from devtools.policies import table_logical_id
from devtools.stage import stage_environment

BATCH_SIZE = 100
MAX_RETRIES = 10
IDLE_SECONDS = 0.2
PURGE_SECONDS = 5  # deployed every 15 minutes; locally sooner, so that a reset's leftovers go soon

log = logging.getLogger("stream_poller")
STREAMED = ("study_sessions", "word_reviews", "memories")


def stream_filters(names: Dict[str, str]) -> Dict[str, dict]:
    """The deployed mapping's filter of each streamed table, by its name."""
    return {names[table]: FILTERS[table_logical_id(table)] for table in STREAMED}


def _lambda_record(record: dict, stream_arn: str) -> dict:
    record = dict(record)
    record["eventSourceARN"] = stream_arn
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if created is not None and not isinstance(created, (int, float)):
        data["ApproximateCreationDateTime"] = created.timestamp()
    record["dynamodb"] = data
    return record


class Shard:
    """One shard of one stream: where the next batch starts, and the batch being retried."""

    def __init__(self, stream_arn: str, shard_id: str, iterator: str):
        self.stream_arn = stream_arn
        self.shard_id = shard_id
        self.iterator: Optional[str] = iterator
        self.pending: List[dict] = []  # records handed but not yet acknowledged
        self.retries = 0
        self.last_sequence: Optional[str] = None


class Positions:
    """Where each shard's acknowledged records end, kept in a file across restarts, as an event
    source mapping keeps its position: a restarted poller does not hand the streams' old records
    over again (the consumer's markers of a purged history are gone with it)."""

    def __init__(self, path: Optional[Path]):
        self._path = path
        self._sequences: Dict[str, str] = {}
        if path is not None and path.exists():
            try:
                self._sequences = json.loads(path.read_text())
            except ValueError:
                log.warning(json.dumps({"event": "positions_unreadable", "file": str(path)}))

    def get(self, shard_id: str) -> Optional[str]:
        return self._sequences.get(shard_id)

    def save(self, shard_id: str, sequence: str) -> None:
        self._sequences[shard_id] = sequence
        if self._path is not None:
            partial = self._path.with_suffix(".partial")
            partial.write_text(json.dumps(self._sequences))
            partial.replace(self._path)


def matches(pattern: dict, record: dict) -> bool:
    """Whether a record matches a Lambda filter pattern of plain values (devtools.consumer_template)."""
    for name, wanted in pattern.items():
        value = record.get(name)
        if isinstance(wanted, dict):
            if not isinstance(value, dict) or not matches(wanted, value):
                return False
        elif value not in wanted:
            return False
    return True


INSERTS = {"eventName": ["INSERT"]}


class StreamPoller:
    def __init__(self, dynamodb, streams, table_names: List[str], handle: Callable[[dict], dict],
                 positions: Optional[Positions] = None, filters: Optional[Dict[str, dict]] = None):
        """``handle(event) -> answer``: the consumer, called with a Lambda DynamoDB event;
        ``filters``: by table name, the pattern of the records handed on (INSERTs by default)."""
        self._dynamodb = dynamodb
        self._streams = streams
        self._tables = table_names
        self._filters = filters or {}
        self._handle = handle
        self._shards: Dict[str, Shard] = {}
        self._positions = positions or Positions(None)

    def _discover(self) -> None:
        for table in self._tables:
            arn = self._dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
            if not arn:
                continue
            description = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]
            for shard in description["Shards"]:
                if shard["ShardId"] in self._shards:
                    continue
                found = Shard(arn, shard["ShardId"], None)
                found.last_sequence = self._positions.get(shard["ShardId"])
                found.iterator = self._iterator(found)
                self._shards[shard["ShardId"]] = found

    def _iterator(self, shard: Shard) -> str:
        """After the last record read, or from the start of the shard."""
        where = {"StreamArn": shard.stream_arn, "ShardId": shard.shard_id}
        if shard.last_sequence:
            try:
                return self._streams.get_shard_iterator(
                    **where, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=shard.last_sequence)["ShardIterator"]
            except ClientError:
                # gone from the stream (trimmed), or not of this stream (a data folder rebuilt
                # around an old positions file): from the start, which the consumer's markers
                # and epochs make exact
                log.info(json.dumps({"event": "position_not_found", "shard": shard.shard_id}))
        return self._streams.get_shard_iterator(**where, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def poll_once(self) -> int:
        """Hand every shard's next batch to the consumer; the number of records handed."""
        self._discover()
        handed = 0
        for shard in self._shards.values():
            if not shard.pending and shard.iterator:
                answer = self._read(shard)
                shard.iterator = answer.get("NextShardIterator")
                if answer["Records"]:
                    shard.last_sequence = answer["Records"][-1]["dynamodb"]["SequenceNumber"]
                wanted = self._filters.get(shard.stream_arn.split(":table/", 1)[-1].split("/", 1)[0], INSERTS)
                shard.pending = [_lambda_record(r, shard.stream_arn) for r in answer["Records"]
                                 if matches(wanted, r)]
                if answer["Records"] and not shard.pending:  # none the mapping hands on: a purge's REMOVEs
                    self._positions.save(shard.shard_id, shard.last_sequence)
            if shard.pending:
                handed += len(shard.pending)
                self._deliver(shard)
        return handed

    def _read(self, shard: Shard) -> dict:
        """The shard's next records. DynamoDB Local sometimes refuses an iterator that an empty
        read handed out, once a record arrives (TrimmedDataAccessException): then read again
        from after the last record read, or from the start (the consumer skips what it saw)."""
        try:
            return self._streams.get_records(ShardIterator=shard.iterator, Limit=BATCH_SIZE)
        except (self._streams.exceptions.TrimmedDataAccessException,
                self._streams.exceptions.ExpiredIteratorException):
            shard.iterator = self._iterator(shard)
            return self._streams.get_records(ShardIterator=shard.iterator, Limit=BATCH_SIZE)

    def _deliver(self, shard: Shard) -> None:
        answer = self._handle({"Records": shard.pending}) or {}
        failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
        if not failed:
            shard.pending, shard.retries = [], 0
            self._positions.save(shard.shard_id, shard.last_sequence)
            return
        first = min(i for i, r in enumerate(shard.pending) if r["dynamodb"]["SequenceNumber"] in failed)
        shard.retries += 1
        if shard.retries > MAX_RETRIES:
            log.error(json.dumps({"event": "records_dropped", "shard": shard.shard_id,
                                  "count": len(shard.pending) - first}))
            shard.pending, shard.retries = [], 0
            self._positions.save(shard.shard_id, shard.last_sequence)  # as the mapping's on-failure queue
            return
        shard.pending = shard.pending[first:]

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                busy = self.poll_once()
            except Exception as error:  # DynamoDB Local restarting, a table being created
                if stop.is_set():
                    return  # make run is stopping DynamoDB Local beside us
                log.warning(json.dumps({"event": "poll_failed", "cause": f"{type(error).__name__}: {error}"}))
                busy = 0
            if not busy:
                stop.wait(IDLE_SECONDS)


def local_clients():
    config = Config(retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("dynamodb", config=config), boto3.client(
        "dynamodbstreams", config=config,
        endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"])


def lambda_handler(app_module) -> Callable[[dict], dict]:
    """The consumer as Lambda invokes it: the decorated function of the app, with a context."""
    return lambda event: app_module.count_new_sessions_and_reviews(event, _Context())


class _Context:
    aws_request_id = "stream-poller"
    function_name = "study-sessions-local"
    memory_limit_in_mb = 512

    @staticmethod
    def get_remaining_time_in_millis():
        return 60_000


def scheduled_event() -> dict:
    """What EventBridge hands a scheduled function."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "000000000000",
            "region": os.environ.get("AWS_REGION", "local"),
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "resources": [], "detail": {}}


def run_schedule(app_module, stop: threading.Event) -> None:
    """The scheduled purge, every PURGE_SECONDS until ``stop``."""
    while not stop.wait(PURGE_SECONDS):
        try:
            app_module.purge_reset_histories(scheduled_event(), _Context())
        except Exception as error:  # DynamoDB Local restarting: the next run purges it
            if stop.is_set():
                return
            log.warning(json.dumps({"event": "purge_failed", "cause": f"{type(error).__name__}: {error}"}))


QUEUE_SECONDS = 0.5


def run_queues(app_module, stop: threading.Event) -> None:
    """What the recompute and fit queues' event source mappings do deployed, on the local queues
    (RECOMPUTE_QUEUE_DIR, FIT_QUEUE_DIR): each message handed to its function as an SQS event of
    one record, every QUEUE_SECONDS; one that fails is handed again, and after FIT_MAX_RECEIVES
    moved to the folder "dead"."""
    from chalicelib.storage.queues import DirectoryQueue
    from chalicelib.study.scheduler import FIT_MAX_RECEIVES

    handlers = [(DirectoryQueue(os.environ[variable]), handler) for variable, handler in (
        ("RECOMPUTE_QUEUE_DIR", app_module.recompute_memories), ("FIT_QUEUE_DIR", app_module.fit_learners))
        if os.environ.get(variable)]
    while not stop.wait(QUEUE_SECONDS):
        for local_queue, handler in handlers:
            try:
                local_queue.drain(lambda event, handler=handler: handler(event, _Context()),
                                  max_receives=FIT_MAX_RECEIVES)
            except Exception as error:  # the message stays for the next drain, or went to "dead"
                log.warning(json.dumps({"event": "queue_message_failed", "queue": str(local_queue.path),
                                        "cause": f"{type(error).__name__}: {error}"}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local")
    parser.add_argument("--positions", type=Path, help="file that keeps the streams' positions across runs")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # not its credentials and endpoint lines
    overrides = signed_in_environment(os.environ)  # AUTH=cognito make run: the purge deletes accounts
    os.environ.update(stage_environment(args.stage))
    os.environ.update(overrides)
    import app  # the stage's environment first, as Lambda sets it
    from chalicelib.config import table_names

    names = table_names()
    dynamodb, streams = local_clients()
    poller = StreamPoller(dynamodb, streams, [names[table] for table in STREAMED], lambda_handler(app),
                          Positions(args.positions), filters=stream_filters(names))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    schedule = threading.Thread(target=run_schedule, args=(app, stop), name="schedule")
    schedule.start()
    queues = threading.Thread(target=run_queues, args=(app, stop), name="queues")
    queues.start()
    poller.run(stop)
    schedule.join()
    queues.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
