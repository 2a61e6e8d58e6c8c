"""The Chalice stage configuration, read from .chalice/config.json."""
import json
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_FILE = PROJECT_DIR / ".chalice" / "config.json"


def load_config() -> dict:
    return json.loads(CONFIG_FILE.read_text())


def stage_environment(stage: str) -> dict:
    """The environment variables Chalice gives the function in this stage."""
    config = load_config()
    if stage not in config["stages"]:
        raise KeyError(f"no stage {stage!r} in {CONFIG_FILE}")
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def table_names(stage: str) -> dict:
    """Logical table name -> this stage's DynamoDB table name."""
    from chalicelib.config import table_names as names_from_environment

    return names_from_environment(stage_environment(stage))
