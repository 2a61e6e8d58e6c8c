"""The /app page of `make run`: the browser client of clients/web (built by `make web` into
clients/web/dist), and its settings at /app/config.json: the API is this server, and with
`AUTH=cognito` the local Cognito's pool, app client and endpoint. Only the dev server serves it;
the Lambda zip has none of it."""
import json
import mimetypes
from pathlib import Path
from typing import Mapping, Optional

from devtools.api_docs import Page
from devtools.stage import PROJECT_DIR

PREFIX = "/app"
DIST = PROJECT_DIR / "clients" / "web" / "dist"
FILES = {"": "index.html", "/": "index.html", "/index.html": "index.html", "/app.js": "app.js"}
NOT_BUILT = "The web client is not built: run `make web` (make run does it)."


def is_app_path(path: str) -> bool:
    path = path.split("?", 1)[0]
    return path == PREFIX or path.startswith(PREFIX + "/")


def sign_in_settings(environ: Mapping[str, str]) -> Optional[dict]:
    """What the client configures Amplify with, from the file AUTH=cognito make run wrote."""
    if environ.get("AUTH_MODE") != "cognito":
        return None
    return local_pool_settings(json.loads(Path(environ["LOCAL_COGNITO_FILE"]).read_text()))


def local_pool_settings(local: Mapping[str, str]) -> dict:
    """The client's signIn settings (a config.json's) for the local Cognito's pool and app client."""
    return {"region": local["region"], "userPoolId": local["user_pool_id"],
            "userPoolClientId": local["client_id"], "userPoolEndpoint": local["endpoint"]}


class WebApp:
    def __init__(self, environ: Mapping[str, str], dist: Path = DIST):
        self._dist = dist
        self._config = json.dumps({"apiBase": "", "signIn": sign_in_settings(environ)}).encode()

    def page(self, path: str) -> Page:
        rest = path.split("?", 1)[0][len(PREFIX):]
        if rest == "/config.json":
            return Page(200, "application/json", self._config)
        name = FILES.get(rest)
        if name is None:
            return Page(404, "application/json", json.dumps(
                {"error": "No such page of the web client.", "code": "not_found"}).encode())
        file = self._dist / name
        if not file.exists():
            return Page(404, "application/json",
                        json.dumps({"error": NOT_BUILT, "code": "not_found"}).encode())
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        return Page(200, content_type, file.read_bytes())
