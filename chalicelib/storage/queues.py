"""The queues the API hands work to, off the request path: a fit of a learner's parameters
(chalicelib.streams.fitting) and the recompute of their memories (chalicelib.streams.recompute).
One port, ``send(body)`` of a JSON object, two adapters: SQS deployed (the functions read it
through their event source mappings), a directory locally (`make run`'s poller drains it,
devtools/stream_poller.py, and hands each message to the same handler, shaped as SQS's event)."""
import json
import os
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator, Optional, Tuple


class SqsQueue:
    def __init__(self, url: str, client_factory: Callable[[], object]):
        self._url = url
        self._client_factory = client_factory
        self._client = None

    def send(self, body: dict, delay_seconds: int = 0) -> None:
        if self._client is None:
            self._client = self._client_factory()
        self._client.send_message(QueueUrl=self._url, MessageBody=json.dumps(body),
                                  DelaySeconds=delay_seconds)


class DirectoryQueue:
    """A queue of JSON files in one directory, oldest first; a message is deleted once handled,
    so one that failed is handed again on the next drain (as SQS redelivers it)."""

    def __init__(self, path):
        self.path = Path(path)

    def send(self, body: dict, delay_seconds: int = 0) -> None:
        """``delay_seconds``: not handed on before then (SQS's DelaySeconds)."""
        self.path.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns() + int(delay_seconds * 1e9):020d}-{uuid.uuid4().hex}"
        scratch = self.path / f".{name}.tmp"
        scratch.write_text(json.dumps(body))
        os.replace(scratch, self.path / f"{name}.json")  # whole or not at all

    def messages(self) -> Iterator[Tuple[Path, str]]:
        if not self.path.is_dir():
            return
        now = time.time_ns()
        for file in sorted(self.path.glob("*.json")):
            if int(file.name.split("-", 1)[0]) > now:
                break  # delayed: not yet visible
            try:
                yield file, file.read_text()
            except FileNotFoundError:  # another drain took it
                continue

    def drain(self, handle: Callable[[dict], object], limit: Optional[int] = None,
              max_receives: Optional[int] = None) -> int:
        """Hand each message to ``handle`` as an SQS event of one record; delete it once handled.
        With ``max_receives``, a message ``handle`` raised on is kept for the next drain, and
        after that many receives moved to the folder "dead" (SQS's redrive to a dead-letter
        queue) instead of raising. The number handled."""
        handled = 0
        for file, body in self.messages():
            if limit is not None and handled >= limit:
                break
            if max_receives is None:
                handle(sqs_event(body, file.stem))
            else:
                stem, _, received = file.stem.partition(".r")
                try:
                    handle(sqs_event(body, stem))
                except Exception:  # noqa: BLE001 - kept for another receive, or dead-lettered
                    receives = int(received or 0) + 1
                    target = (self.path / "dead" / file.name if receives >= max_receives
                              else file.with_name(f"{stem}.r{receives}.json"))
                    target.parent.mkdir(exist_ok=True)
                    os.replace(file, target)
                    raise
            file.unlink(missing_ok=True)
            handled += 1
        return handled


def sqs_event(body: str, message_id: str) -> dict:
    return {"Records": [{"messageId": message_id, "body": body, "eventSource": "aws:sqs",
                         "attributes": {"ApproximateReceiveCount": "1"}}]}


class RecomputeMessages:
    """The hook a change of a learner's scheduler calls, ``send(owner, version)``, as messages of
    the recompute queue: one now, and one ``settle_seconds`` later for what functions that kept
    the old scheduler wrote meanwhile (chalicelib.services.SETTLE_SECONDS)."""

    def __init__(self, queue, settle_seconds: int):
        self._queue = queue
        self._settle_seconds = settle_seconds

    def send(self, owner: str, version: int) -> None:
        self._queue.send({"owner": owner, "version": version})
        self._queue.send({"owner": owner, "version": version}, delay_seconds=self._settle_seconds)
