"""Child processes that run in a session of their own, so Ctrl-C reaches only us."""
import os
import signal
import subprocess
import time
from typing import Callable, Optional

START_TIMEOUT_SECONDS = 60


class SetupError(Exception):
    """Something the local setup needs is missing; the message says what to do."""


def stop_process(process: Optional[subprocess.Popen]) -> None:
    """Stop a process started with start_new_session=True, and everything it started."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until_answering(process: subprocess.Popen, answers: Callable[[], bool], name: str,
                         where: str) -> None:
    """Poll ``answers`` until it is true; stop the process and say so if it dies or stays silent."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SetupError(f"{name} exited with code {process.returncode} at start.")
        try:
            ready = answers()
        except Exception:  # not listening yet, or not ready to answer
            ready = False
        if ready:
            return
        time.sleep(0.2)
    stop_process(process)
    raise SetupError(f"{name} did not answer {where} within {START_TIMEOUT_SECONDS} s.")
