"""An ID token of a demo learner of `AUTH=cognito make run`'s local Cognito, signed in as a
frontend signs in (InitiateAuth), printed for curl:

    TOKEN=$(.venv/bin/python -m devtools.local_token ana)      (or ben)
"""
import argparse
import sys
from pathlib import Path

from devtools.local_auth import cognito_client, running_local_cognito, sign_in
from devtools.stage import PROJECT_DIR

DEFAULT_SETTINGS = PROJECT_DIR / ".data" / "local-cognito.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("learner", help="a demo learner's username: ana or ben")
    parser.add_argument("--settings", type=Path, default=DEFAULT_SETTINGS,
                        help="what AUTH=cognito make run wrote (default: .data/local-cognito.json)")
    args = parser.parse_args()
    settings = running_local_cognito(args.settings)
    if settings is None:
        why = "none answers for {} (left behind by a run that was killed)" if args.settings.exists() \
            else "{} is missing"
        print(f"No local Cognito: {why.format(args.settings)}; start AUTH=cognito make run first.",
              file=sys.stderr)
        return 1
    passwords = {learner["username"]: learner["password"] for learner in settings["learners"]}
    if args.learner not in passwords:
        print(f"No demo learner {args.learner!r}; there are: {', '.join(passwords)}.", file=sys.stderr)
        return 1
    print(sign_in(cognito_client(settings["endpoint"]), settings["client_id"], args.learner,
                  passwords[args.learner]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
