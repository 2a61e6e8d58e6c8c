"""`make run`'s script: persistent data, a clean stop on Ctrl-C, a clear word on a busy port."""
import os
import signal
import socket
import subprocess
import sys

import requests

from devtools.dynamodb_local import free_port, port_is_free
from devtools.stage import PROJECT_DIR


def start(data_dir, api_port, dynamodb_port):
    env = {**os.environ, "PORT": str(api_port), "DYNAMODB_PORT": str(dynamodb_port)}
    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_run", "--data-dir", str(data_dir)],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for line in process.stdout:
        if line.startswith("Ready:"):
            return process, line
    raise AssertionError(f"no ready line; stderr: {process.stderr.read()}")


def interrupt(process):
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=30)


def test_sessions_survive_a_restart_and_ctrl_c_stops_everything(tmp_path):
    api_port, dynamodb_port = free_port(), free_port()
    process, ready = start(tmp_path / "dynamodb", api_port, dynamodb_port)
    assert f"curl -i -X POST http://127.0.0.1:{api_port}/api/study-sessions" in ready
    created = requests.post(
        f"http://127.0.0.1:{api_port}/api/study-sessions",
        json={"group_id": 2, "study_activity_id": 1}, timeout=10,
    ).json()
    assert interrupt(process) == 0
    assert port_is_free(api_port) and port_is_free(dynamodb_port)

    process, _ = start(tmp_path / "dynamodb", api_port, dynamodb_port)
    try:
        again = requests.get(f"http://127.0.0.1:{api_port}/api/study-sessions/{created['id']}", timeout=10)
        groups = requests.get(f"http://127.0.0.1:{api_port}/api/groups", timeout=10).json()
    finally:
        assert interrupt(process) == 0
    assert again.status_code == 200
    assert again.json() == created
    assert [group["name"] for group in groups["items"]] == ["Core Verbs", "Core Adjectives"]


def test_a_busy_port_is_one_clear_sentence_and_exit_1(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        env = {**os.environ, "PORT": str(free_port()), "DYNAMODB_PORT": str(busy)}
        result = subprocess.run(
            [sys.executable, "-m", "devtools.local_run", "--data-dir", str(tmp_path / "db")],
            cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60,
        )

    assert result.returncode == 1
    assert result.stderr == f"make run: Port {busy} is busy: stop what uses it or set DYNAMODB_PORT.\n"
