"""The README's examples run as a newcomer runs them: the Chalice snippet in a fresh interpreter
with nothing of the suite's environment, the curl walkthrough in one shell against a fresh
`make run`, each answer compared with what the README shows (ids, times and cursors masked)."""
import os
import re
import subprocess
import sys

import pytest

from devtools.dynamodb_local import free_port
from devtools.stage import PROJECT_DIR
from tests.readme_walkthrough import README, differences, run, steps
from tests.test_local_run import interrupt, start


def python_block(heading: str) -> str:
    text = README.read_text()
    section = text[text.index(heading):]
    return re.search(r"```python\n(.*?)\n```", section, re.S).group(1)


def test_the_chalice_test_client_snippet_runs_as_written_in_a_clean_environment(tmp_path):
    code = python_block("### Testing your own code the Chalice way")

    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=120, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})

    assert (done.returncode, done.stdout.strip()) == (0, "201"), done.stderr[-3000:]


@pytest.mark.server
def test_the_curl_walkthrough_gives_what_the_readme_shows_on_a_fresh_make_run(tmp_path):
    found = steps()
    api_port, dynamodb_port = free_port(), free_port()
    process, _ = start(tmp_path / "dynamodb", api_port, dynamodb_port)
    try:
        outputs = run(found, f"http://127.0.0.1:{api_port}", tmp_path)
    finally:
        assert interrupt(process) == 0

    assert len(found) > 20
    problems = {step.command: differences(step, output) for step, output in zip(found, outputs, strict=True)}
    assert {command: found for command, found in problems.items() if found} == {}
