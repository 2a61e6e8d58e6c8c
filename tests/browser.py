"""Headless Chromium (Debian's package) for the browser tests, driven over the DevTools protocol."""
import json
import shutil
import subprocess
import time
from pathlib import Path

import requests
import websocket

from devtools.processes import spawn, stop_processes

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0",
]
class Browser:
    """Headless Chromium driven over the Chrome DevTools protocol."""

    def __init__(self, profile: Path):
        self.process = spawn(
            [shutil.which("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        for _ in range(150):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.2)
        port = int(port_file.read_text().splitlines()[0])
        [page] = [t for t in requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
                  if t["type"] == "page"]
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self._id = 0
        self.events = []

    def send(self, method, **params):
        self._id += 1
        self.socket.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self._id:
                return message["result"]
            if "method" in message:
                self.events.append(message)

    def watch_console(self):
        """From now on, keep what the page logs (see console_errors)."""
        self.send("Runtime.enable")
        self.send("Log.enable")

    def console_errors(self):
        """The page's console errors since watch_console: console.error calls, uncaught exceptions,
        and the browser's own error lines (a CORS refusal, a failed request) with where they came from."""
        self.evaluate("true")  # a round trip: what the page logged before it has arrived
        errors = []
        for event in self.events:
            params = event["params"]
            if event["method"] == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                words = (str(arg.get("value", arg.get("description"))) for arg in params["args"])
                errors.append(("console", " ".join(words)))
            elif event["method"] == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append(("exception", details.get("exception", {}).get("description", details["text"])))
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                errors.append((entry["source"], f"{entry['text']} {entry.get('url', '')}".strip()))
        return errors

    def open(self, url):
        self.send("Page.navigate", url=url)
        for _ in range(100):
            state = self.evaluate("document.readyState + ' ' + location.href")
            if state == f"complete {url}":
                return
            time.sleep(0.1)
        raise AssertionError(f"page {url} did not load")

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True)
        return result["result"]["value"]

    def close(self):
        self.socket.close()
        stop_processes(self.process)
