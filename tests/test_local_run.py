"""`make run`'s script: persistent data, a clean stop on Ctrl-C and TERM, no orphans however it
dies, a clear word on a busy port, and parallel clients on new connections."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import requests

from chalicelib.streams.audit import differences, stored
from devtools import dynamodb_local
from devtools.dynamodb_local import free_port, port_is_free
from devtools.load import post_in_parallel
from devtools.local_auth import cognito_client, sign_in
from devtools.stage import PROJECT_DIR, table_names
from tests.helpers import session_page, settled, without_session_id


class Output:
    """A child's stdout and stderr, read to the end in the background so that a chatty
    server never blocks on a full pipe; ``lines()`` once it has exited."""

    def __init__(self, process):
        self._lines = []
        self._readers = [threading.Thread(target=self._read, args=(stream,), daemon=True)
                         for stream in (process.stdout, process.stderr)]
        for reader in self._readers:
            reader.start()

    def _read(self, stream):
        for line in stream:
            self._lines.append(line)

    def lines(self):
        for reader in self._readers:
            reader.join(timeout=10)
        return [line.rstrip("\n") for line in self._lines]


def start(data_dir, api_port, dynamodb_port, command=None, extra_env=None):
    """The launcher (or ``make run``) in a process group of its own, as a terminal starts it."""
    env = {**os.environ, "PORT": str(api_port), "DYNAMODB_PORT": str(dynamodb_port),
           "DATA_DIR": str(data_dir), **(extra_env or {})}
    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    process = subprocess.Popen(
        command or [sys.executable, "-m", "devtools.local_run"],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    process.early = []  # the lines before the ready line
    for line in process.stdout:
        if line.startswith("Ready:"):
            process.output = Output(process)
            return process, line
        process.early.append(line.rstrip("\n"))
    raise AssertionError(f"no ready line; stderr: {process.stderr.read()}")


def interrupt(process):
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=30)


def ports_free_within(seconds, *ports):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(port_is_free(port) for port in ports):
            return True
        time.sleep(0.1)
    return False


def session_ids(api_port):
    ids, cursor = [], None
    while True:
        query = "?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = requests.get(f"http://127.0.0.1:{api_port}/api/study-sessions{query}", timeout=10).json()
        ids += [session["id"] for session in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def test_sessions_survive_a_restart_and_ctrl_c_stops_everything(tmp_path):
    api_port, dynamodb_port = free_port(), free_port()
    process, ready = start(tmp_path / "dynamodb", api_port, dynamodb_port)
    assert f"curl -i -X POST http://127.0.0.1:{api_port}/api/study-sessions" in ready
    assert f"its docs on http://127.0.0.1:{api_port}/docs" in ready
    created = requests.post(
        f"http://127.0.0.1:{api_port}/api/study-sessions",
        json={"group_id": 2, "study_activity_id": 1}, timeout=10,
    ).json()
    assert interrupt(process) == 0
    assert port_is_free(api_port) and port_is_free(dynamodb_port)
    lines = process.early + process.output.lines()
    assert lines[-1] == "Stopped."
    noise = [line for line in lines if "Found " in line or "poll_failed" in line or "Traceback" in line]
    assert noise == []

    process, _ = start(tmp_path / "dynamodb", api_port, dynamodb_port)
    try:
        again = requests.get(f"http://127.0.0.1:{api_port}/api/study-sessions/{created['id']}", timeout=10)
        groups = requests.get(f"http://127.0.0.1:{api_port}/api/groups", timeout=10).json()
    finally:
        assert interrupt(process) == 0
    assert again.status_code == 200
    assert again.json() == session_page(without_session_id(created))
    assert [group["name"] for group in groups["items"]] == ["Core Verbs", "Core Adjectives"]


def test_sigkill_of_the_launcher_s_process_group_leaves_no_server_behind(tmp_path):
    api_port, dynamodb_port = free_port(), free_port()
    process, _ = start(tmp_path / "dynamodb", api_port, dynamodb_port)

    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    assert ports_free_within(5, api_port, dynamodb_port)


def test_a_second_ctrl_c_stops_at_once(tmp_path):
    api_port, dynamodb_port = free_port(), free_port()
    process, _ = start(tmp_path / "dynamodb", api_port, dynamodb_port)

    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=10) == 0
    assert "Stopped at once." in process.output.lines()
    assert ports_free_within(1, api_port, dynamodb_port)


BURSTS = 5


def test_make_run_takes_bursts_of_creates_and_reviews_then_stops_cleanly_on_term(tmp_path):
    """Each burst: 400 creates from 64 threads, each on a new connection, then 400 reviews of
    one session's ten words from 8 threads: every answer 201, every write stored once. (A word's
    memory takes its reviews one at a time. Under a sustained burst from 16, 32 or 64 threads on
    these ten words, 2 busy cores sometimes left one review losing race after race to newer ones
    until its budget ran out (a 503, 1 in 400, "the memory of a reviewed word kept changing" or
    "time budget spent"): README, Scheduling, says so; it is not a learner's load.)"""
    api_port, dynamodb_port = free_port(), free_port()
    data_dir = tmp_path / "dynamodb"
    make, _ = start(data_dir, api_port, dynamodb_port, ["make", "--no-print-directory", "run"])
    base_url = f"http://127.0.0.1:{api_port}"
    created = []
    try:
        for _ in range(BURSTS):
            replies = post_in_parallel(base_url, {"group_id": 1, "study_activity_id": 1}, 400, 64,
                                       keep_alive=False)
            assert [reply.failure for reply in replies if reply.failure] == []
            assert [reply.status for reply in replies] == [201] * 400
            created += [reply.body["id"] for reply in replies]
            session = created[-1]
            reviews = post_in_parallel(base_url, lambda n: {"word_id": 1 + n % 10, "correct": True}, 400, 8,
                                       keep_alive=False, path=f"/api/study-sessions/{session}/review")
            assert [reply.failure for reply in reviews if reply.failure] == []
            assert [reply.status for reply in reviews] == [201] * 400
            page = settled(lambda session=session: requests.get(f"{base_url}/api/study-sessions/{session}",
                                                                timeout=10).json(),
                           lambda page: page["session"]["review_items_count"] >= 400)
            assert page["session"]["review_items_count"] == 400
            assert [word["correct_count"] for word in page["words"]] == [40] * 10
        assert sorted(session_ids(api_port)) == sorted(created)
    finally:
        os.killpg(make.pid, signal.SIGTERM)  # what an IDE or a supervisor sends
        make.wait(timeout=30)

    assert "Stopped." in make.output.lines()  # the orderly stop ran to its end
    assert ports_free_within(10, api_port, dynamodb_port)
    process, _ = start(data_dir, api_port, dynamodb_port)
    try:
        assert sorted(session_ids(api_port)) == sorted(created)
    finally:
        assert interrupt(process) == 0


def test_sigkill_of_make_alone_stops_the_servers_in_order(tmp_path):
    """A killed make (not its group): the launcher gets TERM from the kernel and stops both."""
    api_port, dynamodb_port = free_port(), free_port()
    make, _ = start(tmp_path / "dynamodb", api_port, dynamodb_port, ["make", "--no-print-directory", "run"])

    os.kill(make.pid, signal.SIGKILL)
    make.wait(timeout=10)

    assert ports_free_within(10, api_port, dynamodb_port)


def test_make_reset_data_deletes_the_data_dir_it_is_given(tmp_path):
    data_dir = tmp_path / "elsewhere"
    (data_dir / "shared-local-instance.db").parent.mkdir()
    (data_dir / "shared-local-instance.db").write_text("data")

    subprocess.run(["make", "--no-print-directory", "reset-data", f"DATA_DIR={data_dir}"],
                   cwd=PROJECT_DIR, check=True, capture_output=True)

    assert not data_dir.exists()


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


def test_a_busy_api_port_stops_make_run_before_anything_starts(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        env = {**os.environ, "PORT": str(busy), "DYNAMODB_PORT": str(free_port())}
        result = subprocess.run(
            [sys.executable, "-m", "devtools.local_run", "--data-dir", str(tmp_path / "db")],
            cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60,
        )

    assert result.returncode == 1
    assert result.stderr == f"make run: Port {busy} is busy: stop what uses it or set PORT.\n"
    assert result.stdout == ""  # no DynamoDB Local was started, nothing was created
    assert not (tmp_path / "db").exists()


def test_make_audit_without_a_database_is_one_sentence_and_exit_1():
    env = {**os.environ, "DYNAMODB_PORT": str(free_port())}

    result = subprocess.run([sys.executable, "-m", "devtools.audit"], cwd=PROJECT_DIR, env=env,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("make audit: no DynamoDB at http://127.0.0.1:")
    assert len(result.stderr.splitlines()) == 1


def test_a_second_term_does_not_cut_the_orderly_stop_short(monkeypatch):
    from devtools import local_run

    monkeypatch.setattr(local_run, "_stopping", False)
    try:
        local_run._stop_once()
    except SystemExit as first:
        assert first.code == 0
    else:
        raise AssertionError("the first TERM must start the stop")

    local_run._stop_once()  # make's forwarded TERM, arriving inside the `finally`: no second exit


def test_dynamodb_local_started_by_a_fixture_or_the_bench_dies_with_its_starter():
    port = free_port()
    starter = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from devtools.dynamodb_local import DynamoDBLocal\n"
         f"DynamoDBLocal({port}).start(); print('up', flush=True); time.sleep(120)"],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True,
    )
    assert starter.stdout.readline() == "up\n"
    assert not port_is_free(port)

    starter.kill()
    starter.wait(timeout=10)

    assert ports_free_within(5, port)


def test_after_parallel_creates_and_reviews_the_aggregates_equal_a_recount_and_make_audit_says_so(tmp_path):
    api_port, dynamodb_port = free_port(), free_port()
    process, _ = start(tmp_path / "dynamodb", api_port, dynamodb_port)
    base_url = f"http://127.0.0.1:{api_port}"
    client = dynamodb_local.client(f"http://127.0.0.1:{dynamodb_port}")
    try:
        created = post_in_parallel(base_url, {"group_id": 1, "study_activity_id": 1}, 200, 32,
                                   keep_alive=False)
        assert [reply.status for reply in created] == [201] * 200
        session = created[0].body["id"]
        for first, correct in ((1, True), (2, True), (3, False), (4, True), (1, False)):
            def answer(n, first=first, correct=correct):
                return {"word_id": first + n % 5, "correct": correct}

            reviews = post_in_parallel(base_url, answer, 100, 32,
                                       path=f"/api/study-sessions/{session}/review")
            assert [reply.status for reply in reviews] == [201] * 100

        found = differences(client, table_names("local"))
        deadline = time.monotonic() + 30  # a bound for a loaded 2-core machine; make bench times it
        while found and time.monotonic() < deadline:
            time.sleep(0.2)
            found = differences(client, table_names("local"))
        audit = subprocess.run([sys.executable, "-m", "devtools.audit"], cwd=PROJECT_DIR, capture_output=True,
                               text=True, env={**os.environ, "DYNAMODB_PORT": str(dynamodb_port)})
        totals = stored(client, table_names("local"))[("implicit#0", "totals")]
    finally:
        assert interrupt(process) == 0

    assert found == []
    assert (totals["sessions"], totals["reviews"], totals["correct"]) == (200, 500, 300)
    assert (audit.returncode, audit.stdout.startswith("All ")) == (0, True), audit.stdout + audit.stderr


def test_a_purged_history_stays_gone_after_make_run_restarts(tmp_path):
    """Reset, purge, restart: the poller does not hand the old records over again, and what
    it would hand is dropped, so the audit stays clean."""
    api_port, dynamodb_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{api_port}"
    client = dynamodb_local.client(f"http://127.0.0.1:{dynamodb_port}")
    names = table_names("local")

    def counted(owner, sessions):
        deadline = time.monotonic() + 60  # the purge's grace (15 s) and the poller's rounds
        while stored(client, names).get((owner, "totals"), {}).get("sessions") != sessions:
            assert time.monotonic() < deadline, stored(client, names)
            time.sleep(0.3)

    process, _ = start(tmp_path / "dynamodb", api_port, dynamodb_port)
    try:
        requests.post(f"{base_url}/api/study-sessions", json={"group_id": 1, "study_activity_id": 1},
                      timeout=10)
        counted("implicit#0", 1)
        assert requests.post(f"{base_url}/api/study-sessions/reset", timeout=10).status_code == 200
        deadline = time.monotonic() + 60
        while any(key[0] == "implicit#0" for key in stored(client, names)):
            assert time.monotonic() < deadline, "the purge did not delete the old history"
            time.sleep(0.5)
    finally:
        assert interrupt(process) == 0

    process, _ = start(tmp_path / "dynamodb", api_port, dynamodb_port)
    try:
        requests.post(f"{base_url}/api/study-sessions", json={"group_id": 2, "study_activity_id": 1},
                      timeout=10)
        counted("implicit#1", 1)
        found = differences(client, names)
        leftovers = [key for key in stored(client, names) if key[0] == "implicit#0"]
    finally:
        assert interrupt(process) == 0

    assert (found, leftovers) == ([], [])


def test_auth_cognito_make_run_signs_learners_in_and_stops_with_everything(tmp_path):
    api_port, dynamodb_port, cognito_port = free_port(), free_port(), free_port()
    process, ready = start(tmp_path / "dynamodb", api_port, dynamodb_port,
                           extra_env={"AUTH": "cognito", "COGNITO_PORT": str(cognito_port)})
    settings_file = tmp_path / "local-cognito.json"
    try:
        suggested = ready.split("Try: ", 1)[1].split("   (Ctrl-C stops)")[0]
        tried = subprocess.run(["bash", "-c", suggested], cwd=PROJECT_DIR, capture_output=True, text=True,
                               timeout=60)
        settings = json.loads(settings_file.read_text())
        ana = next(learner for learner in settings["learners"] if learner["username"] == "ana")
        token = sign_in(cognito_client(settings["endpoint"]), settings["client_id"], ana["username"],
                        ana["password"])
        url = f"http://127.0.0.1:{api_port}/api/study-sessions"
        anonymous = requests.post(url, json={"group_id": 1, "study_activity_id": 1}, timeout=10)
        signed_in = requests.post(url, json={"group_id": 1, "study_activity_id": 1}, timeout=10,
                                  headers={"Authorization": token})
    finally:
        assert interrupt(process) == 0
    assert (anonymous.status_code, signed_in.status_code) == (401, 201)
    assert "HTTP/1.1 201 Created" in tried.stdout, tried.stdout + tried.stderr  # the ready line's own try
    assert settings["endpoint"] == f"http://127.0.0.1:{cognito_port}"
    assert ports_free_within(5, api_port, dynamodb_port, cognito_port)
    assert not settings_file.exists()  # what a client needs exists only while it runs


def test_auth_cognito_make_run_keeps_its_pool_and_ana_keeps_her_sessions_across_a_restart(tmp_path):
    """A frontend built with the settings of one run signs in on the next, and ana, signed in
    again, sees the sessions she created before (they are stored under her `sub`)."""
    api_port, dynamodb_port, cognito_port = free_port(), free_port(), free_port()
    signed_in = {"AUTH": "cognito", "COGNITO_PORT": str(cognito_port)}
    url = f"http://127.0.0.1:{api_port}/api/study-sessions"

    def sign_ana_in(settings):
        [ana] = [learner for learner in settings["learners"] if learner["username"] == "ana"]
        return sign_in(cognito_client(settings["endpoint"]), settings["client_id"], "ana", ana["password"])

    def listed(token):
        answer = requests.get(url, headers={"Authorization": token}, timeout=10)
        assert answer.status_code == 200, answer.text
        return [session["id"] for session in answer.json()["items"]]

    process, _ = start(tmp_path / "dynamodb", api_port, dynamodb_port, extra_env=signed_in)
    try:
        before = json.loads((tmp_path / "local-cognito.json").read_text())
        token = sign_ana_in(before)
        created = [requests.post(url, json={"group_id": group, "study_activity_id": 1}, timeout=10,
                                 headers={"Authorization": token}).json()["id"] for group in (1, 2)]
    finally:
        assert interrupt(process) == 0

    process, _ = start(tmp_path / "dynamodb", api_port, dynamodb_port, extra_env=signed_in)
    try:
        after = json.loads((tmp_path / "local-cognito.json").read_text())
        again = listed(sign_ana_in(after))
        with_the_old_token = listed(token)
    finally:
        assert interrupt(process) == 0

    assert after == before
    assert sorted(again) == sorted(with_the_old_token) == sorted(created)
