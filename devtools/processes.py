"""Child processes that run in a session of their own, so Ctrl-C reaches only us."""
import os
import signal
import subprocess
from typing import Optional


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
