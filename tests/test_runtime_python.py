"""`make` builds .venv with the deployed runtime's Python where the machine has it, and says so
when it has not (devtools/runtime_python.sh)."""
import subprocess

from devtools.package import RUNTIME
from devtools.stage import PROJECT_DIR

SCRIPT = str(PROJECT_DIR / "devtools" / "runtime_python.sh")


def test_without_the_runtime_s_python_it_falls_back_to_python3_and_says_why(tmp_path):
    (tmp_path / "python3").symlink_to("/usr/bin/python3")  # the only Python on this PATH

    result = subprocess.run(["sh", SCRIPT], env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
                            capture_output=True, text=True, check=True)

    assert result.stdout.strip() in (str(tmp_path / "python3"), "/usr/bin/python3")
    assert f"{RUNTIME}, the deployed Lambda runtime (devtools/package.py), was not found" in result.stderr
    assert "make run and make test work" in result.stderr


def test_with_the_runtime_s_python_on_path_it_takes_it_silently(tmp_path):
    version = RUNTIME.removeprefix("python")
    fake = tmp_path / RUNTIME
    fake.write_text(f"#!/bin/sh\necho 'Python {version}.0'\n")
    fake.chmod(0o755)

    result = subprocess.run(["sh", SCRIPT], env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
                            capture_output=True, text=True, check=True)

    assert (result.stdout.strip(), result.stderr) == (str(fake), "")
