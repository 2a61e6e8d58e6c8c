"""Child processes that run in a session of their own, so Ctrl-C reaches only us, and that
die with their parent however it dies: the kernel kills them if we are killed with SIGKILL."""
import ctypes
import os
import signal
import subprocess
import time
from typing import Callable, Optional, Sequence

START_TIMEOUT_SECONDS = 60
STOP_GRACE_SECONDS = 5
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)  # loaded before any fork, not in the child


class SetupError(Exception):
    """Something the local setup needs is missing; the message says what to do."""


def on_parent_death(signum: int, parent_pid: int) -> bool:
    """Have the kernel send ``signum`` to this process when its parent dies (Linux; the signal
    comes when the thread that forked us ends). False if the parent is already gone."""
    _libc.prctl(_PR_SET_PDEATHSIG, signum)
    return os.getppid() == parent_pid  # else it died before prctl took effect


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    def in_child() -> None:
        if not on_parent_death(signal.SIGKILL, parent_pid):
            os._exit(1)

    return in_child


def spawn(args: Sequence[str], new_session: bool = True, **popen_kwargs) -> subprocess.Popen:
    """Popen for a child that must not outlive this process."""
    return subprocess.Popen(
        list(args), start_new_session=new_session, preexec_fn=_die_with_parent(os.getpid()),
        **popen_kwargs,
    )


def stop_processes(*processes: Optional[subprocess.Popen], grace: float = STOP_GRACE_SECONDS) -> None:
    """Stop processes started with ``spawn`` and everything they started: TERM to all of them
    at once, then KILL to those still running after ``grace`` seconds."""
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            kill_now(process)


def kill_now(*processes: Optional[subprocess.Popen]) -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:  # it ended between poll() and now
        pass


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
    stop_processes(process)
    raise SetupError(f"{name} did not answer {where} within {START_TIMEOUT_SECONDS} s.")
