"""The console test events of events/ for one deployed stage: each event's authorizer claims
get the stack's app client as `aud`, as the stage's function requires of a token
(LEARNER_CLIENT_IDS, chalicelib.learners.identity), and its stage name in the request context.

    python -m devtools.console_events --stage dev [--client-id ID] [--stack NAME]

Without --client-id it reads the stack's LearnerPoolClientId output with the AWS credentials
and region of the environment (stack: study-sessions-<stage>). Writes out/events/<stage>/.
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Optional

from devtools.stage import PROJECT_DIR, stack_name, stack_outputs

EVENTS = PROJECT_DIR / "events"
CLIENT_OUTPUT = "LearnerPoolClientId"


def stack_client_id(stack: str) -> str:
    outputs = stack_outputs(stack)
    if CLIENT_OUTPUT not in outputs:
        raise SystemExit(f"make console-events: stack {stack} has no {CLIENT_OUTPUT} output.")
    return outputs[CLIENT_OUTPUT]


def for_stage(event: dict, stage: str, client_id: str) -> dict:
    event = json.loads(json.dumps(event))
    context = event["requestContext"]
    context["stage"] = stage
    context["path"] = context["path"].replace("/dev/", f"/{stage}/", 1)
    if "claims" in context.get("authorizer", {}):
        context["authorizer"]["claims"]["aud"] = client_id
    return event


def write(stage: str, client_id: str, out: Optional[Path] = None) -> Path:
    out = out or PROJECT_DIR / "out" / "events" / stage
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(EVENTS.glob("*.json")):
        event = for_stage(json.loads(path.read_text()), stage, client_id)
        (out / path.name).write_text(json.dumps(event, indent=2) + "\n")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--client-id", help="the stack's app client id (LearnerPoolClientId)")
    parser.add_argument("--stack", help="default: study-sessions-<stage>")
    args = parser.parse_args()
    client_id = args.client_id or stack_client_id(args.stack or stack_name(args.stage))
    print(f"Console test events for {args.stage} (aud {client_id}) in {write(args.stage, client_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
