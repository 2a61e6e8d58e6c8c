"""The README's curl walkthrough as data: its commands, what it shows after each, and a run of
them in one shell against a server, both masked the same way (ids, times, cursors)."""
import json
import re
import subprocess
from pathlib import Path
from typing import List, NamedTuple

README = Path(__file__).resolve().parent.parent / "README.md"
API_LINE = "API=http://127.0.0.1:8000"
SEPARATOR = "@@@ next command @@@"
MASKS = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<time>"),
    (re.compile(r'"next_cursor":"[^"]+"'), '"next_cursor":"<cursor>"'),
    # recall predicted now: it falls with every day since the walkthrough's fixed reviewed_at
    (re.compile(r'"retrievability":0\.\d+'), '"retrievability":<probability>'),
]
HEADER = re.compile(r"^[A-Za-z-]+: ")


class Step(NamedTuple):
    command: str
    shown: List[str]  # the lines the README shows after it


def steps(readme: Path = README) -> List[Step]:
    """The commands of the block that starts with API_LINE, and the lines shown after each."""
    text = readme.read_text()
    start = text.index(f"```sh\n$ {API_LINE}\n")
    block = text[start:text.index("\n```\n", start)].splitlines()[1:]
    found: List[Step] = []
    lines = iter(block)
    for line in lines:
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                command = command + "\n" + next(lines)
            found.append(Step(command, []))
        elif found and line:
            found[-1].shown.append(line)
    return found


def mask(line: str) -> str:
    for pattern, replacement in MASKS:
        line = pattern.sub(replacement, line)
    return line


def run(found: List[Step], api_url: str, cwd: Path) -> List[List[str]]:
    """Each command's output lines, the commands run in order in one bash, as a user pastes them."""
    script = "\n".join(f"{step.command.replace(API_LINE, f'API={api_url}')}\nprintf '\\n{SEPARATOR}\\n'"
                       for step in found)
    done = subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"})
    assert done.returncode == 0, done.stderr
    outputs = done.stdout.replace("\r\n", "\n").split(f"\n{SEPARATOR}\n")[:len(found)]
    return [[line for line in output.splitlines() if line] for output in outputs]


def differences(step: Step, output: List[str]) -> List[str]:
    """What the README shows that the run did not: the status line and every header it shows
    (the run may have more headers), then each body line, as JSON when it is JSON."""
    shown, got = [mask(line) for line in step.shown], [mask(line) for line in output]
    problems = []
    got_headers = {line for line in got if HEADER.match(line) or line.startswith("HTTP/")}
    shown_body = [line for line in shown if not (HEADER.match(line) or line.startswith("HTTP/"))]
    got_body = [line for line in got if line not in got_headers]
    problems += [f"header not answered: {line}" for line in shown
                 if (HEADER.match(line) or line.startswith("HTTP/")) and line not in got_headers]
    if [_parsed(line) for line in shown_body] != [_parsed(line) for line in got_body]:
        problems.append(f"shown {shown_body}, got {got_body}")
    return problems


def _parsed(line: str):
    try:
        return json.loads(line)
    except ValueError:
        return line
