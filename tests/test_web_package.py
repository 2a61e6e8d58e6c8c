"""The browser client as the package a frontend team installs: `npm pack` of clients/web, installed
with `npm install <tarball>` into a throw-away Vite app (tests/web_consumer, copied to a temp
folder) that imports only the package's entry points, type-checks and builds; in headless
Chromium, that app wrapped in the sign-in gate against `AUTH=cognito make run`."""
import functools
import json
import shutil
import subprocess
import threading
import tomllib
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from devtools.stage import PROJECT_DIR
from devtools.web_app import local_pool_settings
from tests.test_learners import claims_of, crafted
from tests.test_web_app import new_learner, wait_for

WEB = PROJECT_DIR / "clients" / "web"
CONSUMER = Path(__file__).parent / "web_consumer"
PACKAGE = "@lang-portal/study-sessions-client"
# What a fresh Vite app brings beside the tarball, pinned so that every run builds the same app;
# npm's own cache (~/.npm) keeps them after the first run.
APP_DEPENDENCIES = ["react@19.3.1", "react-dom@19.3.1", "vite@8.4.1", "typescript@5.9.3",
                    "@types/react@19.3.3", "@types/react-dom@19.3.0"]
REACT_MARKER = "react.transitional.element"  # in every React 19 build of JSX


def run(command, cwd):
    command = [str(part) for part in command]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="session")
def tarball(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packed")
    run(["npm", "pack", "--pack-destination", folder, "--loglevel=error"], cwd=WEB)  # prepack builds lib/
    [packed] = folder.glob("*.tgz")
    return packed


@pytest.fixture(scope="session")
def consumer_app(tarball, tmp_path_factory):
    """The throw-away app, installed from the tarball and the registry, type-checked and built."""
    app = tmp_path_factory.mktemp("consumer") / "app"
    shutil.copytree(CONSUMER, app)
    (app / "package.json").write_text(json.dumps({"name": "consumer", "private": True, "type": "module"}))
    run(["npm", "install", tarball, *APP_DEPENDENCIES, "--prefer-offline", "--no-audit", "--no-fund",
         "--loglevel=error"], cwd=app)
    run([app / "node_modules" / ".bin" / "tsc", "-p", "."], cwd=app)
    run([app / "node_modules" / ".bin" / "vite", "build", "--logLevel", "error"], cwd=app)
    return app


def openapi_version():
    return yaml.safe_load((PROJECT_DIR / "openapi.yaml").read_text())["info"]["version"]


def test_the_package_the_project_and_the_api_share_one_version_and_licence():
    package = json.loads((WEB / "package.json").read_text())
    lock = json.loads((WEB / "package-lock.json").read_text())
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]

    assert package["version"] == lock["version"] == project["version"] == openapi_version()
    assert package["license"] == project["license"] == "MIT"
    assert (PROJECT_DIR / "LICENSE").read_text().startswith("MIT License\n")


def test_a_fresh_vite_app_installs_the_tarball_and_builds_with_its_shipped_types(consumer_app):
    installed = consumer_app / "node_modules" / PACKAGE
    manifest = json.loads((installed / "package.json").read_text())
    assert manifest["version"] == openapi_version()
    assert (installed / "LICENSE").read_text() == (PROJECT_DIR / "LICENSE").read_text()
    assert "components" in (installed / "lib" / "api-types.d.ts").read_text()  # generated, shipped
    assert not (installed / "src").exists()
    assert (consumer_app / "node_modules" / "aws-amplify").is_dir()  # a dependency: installed with it

    built = json.loads((consumer_app / "dist" / ".vite" / "manifest.json").read_text())

    def code_of(entry):
        files, chunks = [], [entry]
        while chunks:
            chunk = built[chunks.pop()]
            files.append(chunk["file"])
            chunks += chunk.get("imports", [])
        return "".join((consumer_app / "dist" / file).read_text() for file in files)

    assert "Wrong username or password." in code_of("fetch-only.html")  # the client itself
    assert REACT_MARKER not in code_of("fetch-only.html")
    assert REACT_MARKER in code_of("index.html")


# What an app's import of each specifier resolves to (under node_modules), or Node's refusal.
RESOLVE = """const resolved = (specifier) => {
  try { return import.meta.resolve(specifier).split("/node_modules/").pop(); }
  catch (error) { return error.code; }
};
console.log(JSON.stringify(process.argv.slice(1).map(resolved)));"""


def external_imports(entry, scratch):
    """The packages a built entry of the package imports, over all its chunks (esbuild's metafile)."""
    meta = scratch / f"{entry.stem}.meta.json"
    run([WEB / "node_modules" / ".bin" / "esbuild", entry, "--bundle", "--packages=external", "--format=esm",
         f"--outfile={scratch / entry.name}", f"--metafile={meta}", "--log-level=warning"], cwd=scratch)
    inputs = json.loads(meta.read_text())["inputs"].values()
    return {imported["path"] for source in inputs for imported in source["imports"]
            if imported.get("external")}


def test_only_the_two_entries_are_importable_and_the_core_one_imports_no_react(consumer_app, tmp_path):
    installed = consumer_app / "node_modules" / PACKAGE
    assert list(json.loads((installed / "package.json").read_text())["exports"]) == [".", "./react"]
    specifiers = [PACKAGE, f"{PACKAGE}/react", f"{PACKAGE}/lib/client.js", f"{PACKAGE}/lib/index.js",
                  f"{PACKAGE}/package.json", f"{PACKAGE}/src/index.ts"]
    done = subprocess.run(["node", "--input-type=module", "-e", RESOLVE, *specifiers], cwd=consumer_app,
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [f"{PACKAGE}/lib/index.js", f"{PACKAGE}/lib/react.js",
                                       *["ERR_PACKAGE_PATH_NOT_EXPORTED"] * 4]

    core = external_imports(installed / "lib" / "index.js", tmp_path)
    assert core and all(name.split("/")[0] == "aws-amplify" for name in core), core  # so no React to install
    assert {"react", "react/jsx-runtime"} <= external_imports(installed / "lib" / "react.js", tmp_path)


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def static_site(folder):
    """The built app as a host serves it, on its own origin (the API is another one)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietFiles, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def sign_in(browser, username, password):
    browser.evaluate(f"""(() => {{
        const form = document.querySelector('form.sign-in-gate');
        form.elements.username.value = {json.dumps(username)};
        form.elements.password.value = {json.dumps(password)};
        form.requestSubmit(); return true; }})()""")


def start_session(browser):
    browser.evaluate("(document.getElementById('start').click(), true)")


FORM_MESSAGE = "document.querySelector('form.sign-in-gate')?.querySelector('[role=alert]').textContent ?? ''"
SESSIONS = "document.getElementById('sessions')?.textContent"


@pytest.mark.server
def test_the_gate_refuses_a_wrong_password_signs_in_asks_again_on_a_401_and_signs_out(
        browser, signed_in_server, consumer_app, tmp_path):
    server = signed_in_server
    site = tmp_path / "site"
    shutil.copytree(consumer_app / "dist", site)
    (site / "config.json").write_text(json.dumps(
        {"apiBase": server.base_url, "signIn": local_pool_settings(server.settings)}))
    learner, secret = new_learner(server, "gate")
    browser.watch_console()

    with static_site(site) as origin:
        browser.open(f"{origin}/")
        wait_for(browser, "Boolean(document.querySelector('form.sign-in-gate'))")
        assert browser.evaluate(f"{SESSIONS} ?? 'no app'") == "no app"

        sign_in(browser, learner, "not-the-password")
        assert wait_for(browser, FORM_MESSAGE) == "Wrong username or password."
        assert browser.evaluate(f"{SESSIONS} ?? 'no app'") == "no app"

        sign_in(browser, learner, secret)
        assert wait_for(browser, f"/^[0-9]+$/.test({SESSIONS} ?? '') && {SESSIONS}") == "0"
        assert browser.evaluate("document.querySelector('.sign-in-gate-bar strong').textContent") == learner
        start_session(browser)
        assert wait_for(browser, "document.getElementById('session').textContent") == \
            "Core Verbs · Typing Tutor"

        # A token the API refuses (another app client's) while Amplify still holds it: the next call
        # is a 401, and the gate asks to sign in again; the same learner signs in anew.
        [[key, token]] = browser.evaluate(
            "Object.keys(localStorage).filter(k => k.endsWith('.idToken')).map(k => [k, localStorage[k]])")
        refused = crafted(server, **{**claims_of(token), "aud": "another-app-client"})
        browser.evaluate(f"(localStorage.setItem({json.dumps(key)}, {json.dumps(refused)}), true)")
        start_session(browser)
        assert wait_for(browser, FORM_MESSAGE) == "Your session has ended: please sign in again."
        assert browser.evaluate(f"{SESSIONS} ?? 'no app'") == "no app"
        sign_in(browser, learner, secret)
        wait_for(browser, f"/^[0-9]+$/.test({SESSIONS} ?? '')")
        start_session(browser)
        assert wait_for(browser, "document.getElementById('created').textContent") == "201"

        browser.evaluate("(document.querySelector('.sign-in-gate-bar button').click(), true)")
        assert wait_for(browser, FORM_MESSAGE) == "Signed out."
        assert browser.evaluate("Object.keys(localStorage).filter(k => k.endsWith('.idToken')).length") == 0
        browser.open(f"{origin}/")
        wait_for(browser, "Boolean(document.querySelector('form.sign-in-gate'))")  # nothing kept

    cognito, api = server.settings["endpoint"], server.base_url
    # Chrome logs every answer that is not a success: these two are the ones this test asks for.
    failed = "Failed to load resource: the server responded with a status of"
    asked_for = [("network", f"{failed} 400 (BAD REQUEST) {cognito}/"),
                 ("network", f"{failed} 401 (Unauthorized) {api}/api/study-sessions")]
    errors = browser.console_errors()
    assert errors == asked_for
