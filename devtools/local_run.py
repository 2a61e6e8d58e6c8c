"""`make run`: DynamoDB Local (persistent, seeded) and `chalice local`, stopped together.

    python -m devtools.local_run [--data-dir DIR]    (PORT and DYNAMODB_PORT override the ports)
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
from devtools.processes import SetupError, stop_process, wait_until_answering
from devtools.provision import provision
from devtools.stage import PROJECT_DIR, table_names

STAGE = "local"
DEFAULT_API_PORT = 8000
DEFAULT_DYNAMODB_PORT = 8001
DEFAULT_DATA_DIR = PROJECT_DIR / ".data" / "dynamodb"


def chalice_environment(dynamodb_endpoint: str) -> dict:
    return {
        **os.environ,
        **dynamodb_local.LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "PYTHONUNBUFFERED": "1",
    }


def start_chalice_local(
    port: int, dynamodb_endpoint: str, project_dir: Path = PROJECT_DIR, log_path: Optional[Path] = None
) -> subprocess.Popen:
    if not port_is_free(port):
        raise SetupError(f"Port {port} is busy: stop what uses it or set PORT.")
    chalice = Path(sys.executable).parent / "chalice"
    output = open(log_path, "ab") if log_path else None
    process = subprocess.Popen(
        [str(chalice), "local", "--no-autoreload", "--stage", STAGE,
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=project_dir, env=chalice_environment(dynamodb_endpoint),
        stdout=output, stderr=subprocess.STDOUT if output else None, start_new_session=True,
    )
    if output:
        output.close()
    url = f"http://127.0.0.1:{port}/api/groups"
    wait_until_answering(process, lambda: _serves(url), "chalice local", f"at {url}")
    return process


def _serves(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as answer:
        return answer.status == 200


def ready_line(api_port: int) -> str:
    body = json.dumps({"group_id": 1, "study_activity_id": 1})
    return (
        f"Ready: API on http://127.0.0.1:{api_port}  Try: curl -i -X POST "
        f"http://127.0.0.1:{api_port}/api/study-sessions "
        f"-H 'Content-Type: application/json' -d '{body}'   (Ctrl-C stops)"
    )


def run(data_dir: Path) -> None:
    api_port = int(os.environ.get("PORT", DEFAULT_API_PORT))
    dynamodb_port = int(os.environ.get("DYNAMODB_PORT", DEFAULT_DYNAMODB_PORT))
    database = DynamoDBLocal(dynamodb_port, db_path=data_dir, log_path=data_dir.parent / "dynamodb.log")
    api = None
    try:
        database.start()
        names = table_names(STAGE)
        client = dynamodb_local.client(database.endpoint)
        created = provision(client, names)
        print(f"DynamoDB Local on {database.endpoint}, data in {data_dir}; "
              f"tables created now: {len(created)} of {len(names)}", flush=True)
        api = start_chalice_local(api_port, database.endpoint)
        print(ready_line(api_port), flush=True)
        while api.poll() is None and database.process.poll() is None:
            time.sleep(0.3)
        raise SetupError("chalice local or DynamoDB Local stopped unexpectedly.")
    finally:
        stop_process(api)
        database.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        run(args.data_dir.resolve())
    except SetupError as error:
        print(f"make run: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
