"""`make run`: DynamoDB Local (persistent, seeded), `chalice local` and the stream poller that
feeds the aggregates consumer, stopped together; with AUTH=cognito, also a local Cognito whose
tokens the API verifies (devtools.local_auth).

    python -m devtools.local_run [--data-dir DIR]    (PORT, DYNAMODB_PORT, COGNITO_PORT and
                                                      DATA_DIR override the ports and the data folder)

Ctrl-C or TERM stops both in order; a second Ctrl-C kills them at once. When its parent (make)
dies, the kernel sends it TERM; if this process is killed outright, the kernel kills both
(devtools.processes.spawn).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Optional

from devtools import dynamodb_local
from devtools.dynamodb_local import DynamoDBLocal, port_is_free
from devtools.processes import (
    SetupError,
    kill_now,
    on_parent_death,
    spawn,
    stop_processes,
    wait_until_answering,
)
from devtools.provision import provision
from devtools.stage import PROJECT_DIR, table_names

STAGE = "local"
DEFAULT_API_PORT = 8000
DEFAULT_DYNAMODB_PORT = 8001
DEFAULT_COGNITO_PORT = 8002
DEFAULT_DATA_DIR = PROJECT_DIR / ".data" / "dynamodb"
AUTH_MODES = ("none", "cognito")
# In the data folder, so that `make reset-data` forgets them with the tables: the poller's place
# in the streams, and the local Cognito's pool, app client and learners (devtools.cognito_state).
STREAM_POSITIONS = "stream-positions.json"
COGNITO_STATE = "cognito.json"


def queue_dir(dynamodb_endpoint: str) -> Path:
    """The local queues of the API and the poller beside one DynamoDB Local (chalicelib.storage.queues):
    one folder per its port, so that two runs never share one."""
    return PROJECT_DIR / ".data" / "queues" / dynamodb_endpoint.rsplit(":", 1)[-1].strip("/")


def chalice_environment(dynamodb_endpoint: str, cognito_file: Optional[Path] = None) -> dict:
    """With ``cognito_file`` (what start_local_cognito wrote) the API signs learners in."""
    signed_in = {"AUTH_MODE": "cognito", "LOCAL_COGNITO_FILE": str(cognito_file)} if cognito_file else {}
    queues = queue_dir(dynamodb_endpoint)
    return {
        **os.environ,
        **dynamodb_local.LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "PYTHONUNBUFFERED": "1",
        "FIT_QUEUE_DIR": str(queues / "fit"),
        "RECOMPUTE_QUEUE_DIR": str(queues / "recompute"),
        **signed_in,
    }


def start_local_cognito(port: int, settings_file: Path, state_file: Path,
                        log_path: Optional[Path] = None) -> subprocess.Popen:
    """moto's Cognito with a pool, an app client and the demo learners, those of ``state_file``
    if an earlier start wrote it; returns once ``settings_file`` holds what a client needs to
    sign in."""
    if not port_is_free(port):
        raise SetupError(f"Port {port} is busy: stop what uses it or set COGNITO_PORT.")
    settings_file.unlink(missing_ok=True)
    process = _spawn_logged([sys.executable, "-m", "devtools.local_auth", "--port", str(port),
                             "--out", str(settings_file), "--state", str(state_file)],
                            log_path, quiet=True, cwd=PROJECT_DIR)
    wait_until_answering(process, settings_file.exists, "local Cognito", f"on port {port}")
    return process


def start_chalice_local(
    port: int, dynamodb_endpoint: str, project_dir: Path = PROJECT_DIR, log_path: Optional[Path] = None,
    cognito_file: Optional[Path] = None,
) -> subprocess.Popen:
    if not port_is_free(port):
        raise SetupError(f"Port {port} is busy: stop what uses it or set PORT.")
    process = _spawn_logged(
        [sys.executable, "-m", "devtools.dev_server", "--project-dir", str(project_dir),
         "--stage", STAGE, "--host", "127.0.0.1", "--port", str(port)],
        log_path, cwd=PROJECT_DIR, env=chalice_environment(dynamodb_endpoint, cognito_file),
    )
    url = f"http://127.0.0.1:{port}/api/groups"
    wait_until_answering(process, lambda: _serves(url), "chalice local", f"at {url}")
    return process


def start_stream_poller(dynamodb_endpoint: str, project_dir: Path = PROJECT_DIR,
                        log_path: Optional[Path] = None, positions: Optional[Path] = None,
                        cognito_file: Optional[Path] = None) -> subprocess.Popen:
    """The aggregates consumer, fed from DynamoDB Local's streams as Lambda would feed it, and the
    scheduled purge; ``positions``: the file where it keeps its place in the streams across runs;
    ``cognito_file``: the local pool, whose erased learners the purge deletes."""
    where = ["--positions", str(positions)] if positions else []
    return _spawn_logged([sys.executable, "-m", "devtools.stream_poller", "--stage", STAGE, *where], log_path,
                         cwd=project_dir, env=chalice_environment(dynamodb_endpoint, cognito_file))


def _spawn_logged(args, log_path: Optional[Path], quiet: bool = False, **popen_kwargs) -> subprocess.Popen:
    """``spawn`` with stdout and stderr appended to ``log_path``; without one, this terminal's
    (or nowhere, if ``quiet``)."""
    if log_path is None:
        output = subprocess.DEVNULL if quiet else None
        return spawn(args, stdout=output, stderr=output, **popen_kwargs)
    with open(log_path, "ab") as output:
        return spawn(args, stdout=output, stderr=subprocess.STDOUT, **popen_kwargs)


def _serves(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as answer:
        return answer.status == 200


def ready_line(api_port: int, cognito_file: Optional[Path] = None) -> str:
    """What is up and one request that works, signed in first where the API needs it."""
    api = f"http://127.0.0.1:{api_port}"
    body = json.dumps({"group_id": 1, "study_activity_id": 1})
    sign_in, authorization = "", ""
    if cognito_file is not None:
        settings = "" if cognito_file == DEFAULT_DATA_DIR.parent / "local-cognito.json" else \
            f" --settings {cognito_file}"
        sign_in = f"TOKEN=$(.venv/bin/python -m devtools.local_token ana{settings}) && "
        authorization = "-H \"Authorization: $TOKEN\" "
    return (
        f"Ready: API on {api}, its docs on {api}/docs  Try: {sign_in}curl -i -X POST "
        f"{api}/api/study-sessions {authorization}"
        f"-H 'Content-Type: application/json' -d '{body}'   (Ctrl-C stops)"
    )


def check_ports_free(ports: dict) -> None:
    """Every port make run needs, before anything starts: variable -> port."""
    for variable, port in ports.items():
        if not port_is_free(port):
            raise SetupError(f"Port {port} is busy: stop what uses it or set {variable}.")


def run(data_dir: Path, auth: str) -> None:
    api_port = int(os.environ.get("PORT", DEFAULT_API_PORT))
    dynamodb_port = int(os.environ.get("DYNAMODB_PORT", DEFAULT_DYNAMODB_PORT))
    cognito_port = int(os.environ.get("COGNITO_PORT", DEFAULT_COGNITO_PORT))
    check_ports_free({"PORT": api_port, "DYNAMODB_PORT": dynamodb_port,
                      **({"COGNITO_PORT": cognito_port} if auth == "cognito" else {})})
    database = DynamoDBLocal(dynamodb_port, db_path=data_dir, log_path=data_dir.parent / "dynamodb.log")
    api = poller = cognito = cognito_file = None
    try:
        if auth == "cognito":
            data_dir.parent.mkdir(parents=True, exist_ok=True)
            cognito_file = data_dir.parent / "local-cognito.json"
            cognito = start_local_cognito(cognito_port, cognito_file, data_dir / COGNITO_STATE,
                                          data_dir.parent / "cognito.log")
            print(f"Local Cognito: sign-in settings and demo learners in {cognito_file}, "
                  f"its learners kept in {data_dir / COGNITO_STATE}", flush=True)
        database.start()
        names = table_names(STAGE)
        client = dynamodb_local.client(database.endpoint)
        created = provision(client, names)
        print(f"DynamoDB Local on {database.endpoint}, data in {data_dir}; "
              f"tables created now: {len(created)} of {len(names)}", flush=True)
        poller = start_stream_poller(database.endpoint, positions=data_dir / STREAM_POSITIONS,
                                     cognito_file=cognito_file)
        api = start_chalice_local(api_port, database.endpoint, cognito_file=cognito_file)
        print(ready_line(api_port, cognito_file), flush=True)
        children = [child for child in (api, poller, database.process, cognito) if child]
        while all(child.poll() is None for child in children):
            time.sleep(0.3)
        raise SetupError("chalice local, the stream poller, DynamoDB Local or Cognito stopped unexpectedly.")
    finally:
        stop_in_order(api, poller, database.process, cognito)


_stopping = False


def _stop_once(*_) -> None:
    """TERM starts the orderly stop once. A kill of make's process group reaches us twice (make
    forwards the TERM it gets), 1 ms apart: a second SystemExit raised inside the `finally`
    used to abandon the stop before DynamoDB Local, leaving it on its port."""
    global _stopping
    if not _stopping:
        _stopping = True
        raise SystemExit(0)


def stop_in_order(*children) -> None:
    """Stop the children; a second Ctrl-C kills them at once."""
    global _stopping
    _stopping = True

    def at_once(*_):
        kill_now(*children)
        print("Stopped at once.", flush=True)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, at_once)
    stop_processes(*children)
    print("Stopped.", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("DATA_DIR", DEFAULT_DATA_DIR)))
    args = parser.parse_args()
    auth = os.environ.get("AUTH", "none")
    if auth not in AUTH_MODES:
        print(f"make run: AUTH must be one of {', '.join(AUTH_MODES)}, not {auth!r}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_once)
    # Killed make (or a closed IDE) leaves no orphan: its death is a TERM, the orderly stop.
    if not on_parent_death(signal.SIGTERM, os.getppid()):
        return 1
    try:
        run(args.data_dir.resolve(), auth)
    except SetupError as error:
        print(f"make run: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
