"""The Chalice stage configuration, read from .chalice/config.json."""
import json
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_FILE = PROJECT_DIR / ".chalice" / "config.json"


def load_config() -> dict:
    return json.loads(CONFIG_FILE.read_text())


class StageConfigError(ValueError):
    """A stage's settings contradict each other; the message says which and why."""


def stage_environment(stage: str) -> dict:
    """The environment variables Chalice gives the function in this stage, refused if they
    contradict each other."""
    from chalicelib.config import purge_grace_seconds
    from chalicelib.core.errors import InternalError

    config = load_config()
    if stage not in config["stages"]:
        raise KeyError(f"no stage {stage!r} in {CONFIG_FILE}")
    environment = {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }
    try:
        purge_grace_seconds(environment)
    except InternalError as error:
        raise StageConfigError(f"Stage {stage!r} in {CONFIG_FILE}: {error.cause}") from None
    return environment


def table_names(stage: str) -> dict:
    """Logical table name -> this stage's DynamoDB table name."""
    from chalicelib.config import table_names as names_from_environment

    return names_from_environment(stage_environment(stage))


DEFAULT_OPERATIONS = {"throttle_rate_limit": 100, "throttle_burst_limit": 200, "log_retention_days": 30}


def operations(stage: str) -> dict:
    """A deployed stage's limits: API throttling (requests/s, burst) and log retention (days).
    Kept beside Chalice's own settings (xray, reserved_concurrency) in .chalice/config.json."""
    return {**DEFAULT_OPERATIONS, **load_config()["stages"][stage].get("operations", {})}


def stack_name(stage: str) -> str:
    """The CloudFormation stack a stage is deployed as (README, Deploy)."""
    return f"study-sessions-{stage}"


def stack_outputs(stack: str) -> dict:
    """A deployed stack's outputs by key, with the AWS credentials and region of the environment;
    without them, or without the stack, one sentence that says so (SystemExit)."""
    import boto3
    from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

    try:
        [found] = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except NoRegionError:
        raise SystemExit(f"Reading stack {stack} needs an AWS region: export AWS_DEFAULT_REGION=<the stack's "
                         "region>.") from None
    except NoCredentialsError:
        raise SystemExit(f"Reading stack {stack} needs AWS credentials: aws sts get-caller-identity must "
                         "answer.") from None
    except ClientError as error:
        raise SystemExit(f"Stack {stack} could not be read: {error.response['Error']['Message']}") from None
    return {output["OutputKey"]: output["OutputValue"] for output in found.get("Outputs", [])}


def stage_setting(stage: str, name: str):
    return load_config()["stages"][stage].get(name)
