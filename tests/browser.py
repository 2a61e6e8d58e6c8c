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
        self.events = []  # every DevTools event so far, read while waiting for an answer
        for domain in ("Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def send(self, method, **params):
        self._id += 1
        self.socket.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self._id:
                return message["result"]
            if "method" in message:
                self.events.append(message)

    def requests(self):
        """(method, url, X-Amz-Target, status or the network error) of each request the page
        made, in order; a request refused by CORS or never answered has its error."""
        self.evaluate("true")  # reads the events sent so far
        sent, outcomes = {}, {}
        for event in self.events:
            params = event["params"]
            if event["method"] == "Network.requestWillBeSent":
                request = params["request"]
                headers = {name.lower(): value for name, value in request["headers"].items()}
                target = headers.get("x-amz-target", "")
                sent[params["requestId"]] = (request["method"], request["url"], target)
            elif event["method"] == "Network.responseReceived":
                outcomes[params["requestId"]] = params["response"]["status"]
            elif event["method"] == "Network.loadingFailed":
                outcomes[params["requestId"]] = params["errorText"]
        return [(*request, outcomes.get(request_id)) for request_id, request in sent.items()]

    def watch_console(self):
        """From now on, keep only what the page logs after this (see console_errors)."""
        self.evaluate("true")  # reads the events sent so far
        self.events.clear()

    def failed_requests(self):
        """The requests answered with 400 or more, or not at all."""
        return [request for request in self.requests()
                if not isinstance(request[-1], int) or request[-1] >= 400]

    def console_errors(self):
        """Each error the page's console showed: the page's own, uncaught exceptions, and the
        browser's (a failed load, a CORS refusal), as (source, text)."""
        self.evaluate("true")
        errors = []
        for event in self.events:
            params = event["params"]
            if event["method"] == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                errors.append(("console", " ".join(str(arg.get("value", arg.get("description")))
                                                   for arg in params["args"])))
            elif event["method"] == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append(("exception", details.get("exception", {}).get("description", details["text"])))
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]  # a failed load names what failed by its url
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

    def press_enter(self):
        """Enter on whatever has the keyboard focus, as a person presses it."""
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                      windowsVirtualKeyCode=13, **({"text": "\r"} if kind == "keyDown" else {}))

    def hold_requests(self, url_pattern, stage):
        """From now on, hold each request whose URL matches ``url_pattern`` (``*`` any text) at
        ``stage``: "Request", before it is sent, or "Response", once the server has answered
        and before the page sees the answer. See held_request and fail_held."""
        self.send("Fetch.enable", patterns=[{"urlPattern": url_pattern, "requestStage": stage}])

    def held_request(self, seconds=20):
        """The id and URL of the next request held, waiting for it; each is returned once."""
        deadline = time.monotonic() + seconds
        while True:
            self.evaluate("true")  # reads the events sent so far
            for event in self.events:
                if event["method"] == "Fetch.requestPaused" and not event.get("taken"):
                    event["taken"] = True
                    return event["params"]["requestId"], event["params"]["request"]["url"]
            assert time.monotonic() < deadline, "no request was held"
            time.sleep(0.1)

    def fail_held(self, request_id):
        """The held request fails as a broken connection does: the page never sees an answer."""
        self.send("Fetch.failRequest", requestId=request_id, errorReason="ConnectionReset")

    def stop_holding(self):
        self.send("Fetch.disable")

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True)
        return result["result"]["value"]

    def close(self):
        self.socket.close()
        stop_processes(self.process)
