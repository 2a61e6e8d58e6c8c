"""Interactive API docs for `make run`: Swagger UI (npm `swagger-ui-dist`, fetched once into
.cache/ and served offline) showing openapi.yaml, whose "Try it out" calls the running API.
Only the dev server serves these; the Lambda zip has none of it."""
import json
import mimetypes
from pathlib import Path
from typing import Dict, NamedTuple, Optional

import yaml

from devtools import npm_packages
from devtools.stage import PROJECT_DIR

NPM_PACKAGE = "swagger-ui-dist@5.32.1"
INSTALL_DIR = npm_packages.CACHE_DIR / "swagger-ui"
PREFIX = "/docs"
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")
# validatorUrl null: the page would otherwise send the document to an online validator.
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Study-sessions API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/docs/openapi.json", dom_id: "#swagger-ui",
                                 validatorUrl: null, deepLinking: true});
  </script>
</body>
</html>
"""


class Page(NamedTuple):
    status: int
    content_type: str
    body: bytes


def is_docs_path(path: str) -> bool:
    path = path.split("?", 1)[0]
    return path == PREFIX or path.startswith(PREFIX + "/")


class ApiDocs:
    def __init__(self, package_dir: Path, spec_file: Path = PROJECT_DIR / "openapi.yaml"):
        self._package_dir = package_dir
        spec = yaml.safe_load(spec_file.read_text())
        spec["servers"] = [{"url": "/", "description": "this server"}]
        self._pages: Dict[str, Page] = {
            PREFIX: Page(200, "text/html; charset=utf-8", PAGE.encode()),
            f"{PREFIX}/": Page(200, "text/html; charset=utf-8", PAGE.encode()),
            f"{PREFIX}/openapi.json": Page(200, "application/json", json.dumps(spec).encode()),
        }

    @classmethod
    def install(cls) -> "ApiDocs":
        return cls(npm_packages.unpack(NPM_PACKAGE, INSTALL_DIR))

    def page(self, path: str) -> Optional[Page]:
        """The page at this path, or None for a path under /docs that has none."""
        path = path.split("?", 1)[0]
        if path in self._pages:
            return self._pages[path]
        name = path[len(PREFIX) + 1:]
        if name in ASSETS:
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return Page(200, content_type, (self._package_dir / name).read_bytes())
        return None
