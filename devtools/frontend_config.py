"""The settings a frontend (a Vite app, clients/web) needs for a stage, printed as a .env file:

    make frontend-config STAGE=dev > .env.production     (STAGE=local: make run's, see below)

For a deployed stage they are the stack's outputs (EndpointURL, Region, LearnerPoolId,
LearnerPoolClientId; stack study-sessions-<stage>, AWS credentials and region of the
environment); for `local`, make run's API and, while `AUTH=cognito make run`'s local Cognito
answers, its settings (.data/local-cognito.json; PORT and DATA_DIR as make run's).
"""
import argparse
import os
import sys
from pathlib import Path
from typing import Dict, Optional

from devtools.local_auth import running_local_cognito
from devtools.local_run import DEFAULT_API_PORT, DEFAULT_DATA_DIR
from devtools.stage import stack_name, stack_outputs

NO_STAGE = ("make frontend-config needs a stage: STAGE=dev or STAGE=prod for a deployed stack's settings "
            "(with the AWS credentials and region of the environment), or STAGE=local for make run's "
            "(with AUTH=cognito make run running, for sign-in).")
OUTPUTS = {"VITE_API_BASE_URL": "EndpointURL", "VITE_AWS_REGION": "Region",
           "VITE_USER_POOL_ID": "LearnerPoolId", "VITE_USER_POOL_CLIENT_ID": "LearnerPoolClientId"}


def from_outputs(outputs: Dict[str, str]) -> Dict[str, str]:
    missing = [name for name in OUTPUTS.values() if name not in outputs]
    if missing:
        raise SystemExit(f"make frontend-config: the stack has no output {', '.join(missing)}; "
                         "deploy a template of this checkout (make package).")
    settings = {variable: outputs[name] for variable, name in OUTPUTS.items()}
    settings["VITE_API_BASE_URL"] = settings["VITE_API_BASE_URL"].rstrip("/")
    return settings


def local_cognito_file() -> Path:
    """Where `AUTH=cognito make run` keeps its local Cognito's settings: beside its data folder."""
    return Path(os.environ.get("DATA_DIR", DEFAULT_DATA_DIR)).parent / "local-cognito.json"


def local(api_port: int, cognito_file: Path) -> Dict[str, str]:
    settings = {"VITE_API_BASE_URL": f"http://127.0.0.1:{api_port}"}
    cognito = running_local_cognito(cognito_file)
    if cognito is not None:
        settings.update({"VITE_AWS_REGION": cognito["region"], "VITE_USER_POOL_ID": cognito["user_pool_id"],
                         "VITE_USER_POOL_CLIENT_ID": cognito["client_id"],
                         "VITE_USER_POOL_ENDPOINT": cognito["endpoint"]})
    return settings


def dotenv(settings: Dict[str, str], comment: Optional[str] = None) -> str:
    lines = [f"# {comment}"] if comment else []
    return "\n".join(lines + [f"{name}={value}" for name, value in settings.items()]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage")
    parser.add_argument("--stack", help="default: study-sessions-<stage>")
    args = parser.parse_args()
    if not args.stage:
        raise SystemExit(NO_STAGE)
    if args.stage == "local":
        settings = local(int(os.environ.get("PORT", DEFAULT_API_PORT)), local_cognito_file())
        note = "make run" if "VITE_USER_POOL_ID" in settings else \
            "make run: no sign-in (start AUTH=cognito make run for the local Cognito's settings)"
    else:
        stack = args.stack or stack_name(args.stage)
        settings, note = from_outputs(stack_outputs(stack)), f"stack {stack}"
    sys.stdout.write(dotenv(settings, note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
