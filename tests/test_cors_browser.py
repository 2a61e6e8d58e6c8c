"""CORS in a real browser: headless Chromium fetches from the API on another origin."""
import functools
import http.server
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from chalicelib.storage.schema import HISTORY, IMPLICIT_LEARNER
from devtools.dynamodb_local import free_port
from devtools.local_run import start_chalice_local
from devtools.processes import stop_processes
from devtools.stage import CONFIG_FILE, PROJECT_DIR
from tests.helpers import session_page, without_session_id

FETCHES = """
(async () => {
  const api = %s;
  const out = {};
  try {
    const post = await fetch(api + "/api/study-sessions", {
      method: "POST",
      headers: {"Content-Type": "application/json", "Idempotency-Key": %s},
      body: JSON.stringify({group_id: 1, study_activity_id: 1}),
    });
    out.post = {status: post.status, body: await post.json(), location: post.headers.get("Location")};
    const get = await fetch(api + out.post.location);
    out.get = {status: get.status, body: await get.json()};
  } catch (error) {
    out.error = String(error);
  }
  return JSON.stringify(out);
})()
"""


@pytest.fixture(scope="module")
def page_port():
    """A loopback server for the frontend's page, on an origin of its own."""
    with tempfile.TemporaryDirectory() as root:
        Path(root, "index.html").write_text("<!doctype html><title>lang-portal</title><p>portal</p>")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield server.server_address[1]
        server.shutdown()


@pytest.fixture(scope="module")
def api_for_origin(local_server, page_port, tmp_path_factory):
    """chalice local whose stage config allows only the page's origin, http://127.0.0.1:PORT."""
    project = tmp_path_factory.mktemp("project")
    shutil.copy(PROJECT_DIR / "app.py", project)
    shutil.copytree(PROJECT_DIR / "chalicelib", project / "chalicelib")
    config = json.loads(CONFIG_FILE.read_text())
    config["stages"]["local"]["environment_variables"]["CORS_ALLOW_ORIGIN"] = f"http://127.0.0.1:{page_port}"
    (project / ".chalice").mkdir()
    (project / ".chalice" / "config.json").write_text(json.dumps(config))
    port = free_port()
    log = project / "chalice-local.log"
    process = start_chalice_local(port, local_server.dynamodb.meta.endpoint_url, project, log)
    yield f"http://127.0.0.1:{port}", log
    stop_processes(process)


def test_the_allowed_origin_can_post_json_and_read_the_session(browser, page_port, api_for_origin,
                                                               local_server):
    api, log = api_for_origin
    before = local_server.session_count()
    browser.open(f"http://127.0.0.1:{page_port}/index.html")

    result = json.loads(browser.evaluate(FETCHES % (json.dumps(api), json.dumps("browser-1"))))

    assert "error" not in result, result
    assert result["post"]["status"] == 201
    assert result["post"]["location"] == f"/api/study-sessions/{result['post']['body']['id']}"
    assert result["get"] == {"status": 200, "body": session_page(without_session_id(result["post"]["body"]))}
    assert local_server.session_count() == before + 1
    assert '"OPTIONS /api/study-sessions HTTP/1.1" 200' in log.read_text()


def test_another_origin_is_blocked_by_the_browser_and_writes_nothing(browser, page_port, api_for_origin,
                                                                      local_server):
    api, log = api_for_origin
    before = local_server.session_count()
    requests_before = log.read_text()
    browser.open(f"http://localhost:{page_port}/index.html")

    result = json.loads(browser.evaluate(FETCHES % (json.dumps(api), json.dumps("browser-2"))))

    assert result == {"error": "TypeError: Failed to fetch"}
    assert local_server.session_count() == before
    served = log.read_text()[len(requests_before):]
    assert '"OPTIONS /api/study-sessions HTTP/1.1" 200' in served
    assert "POST /api/study-sessions" not in served


# The lang-portal frontend's calls, page by page, from another origin; each page renders
# what the frontend renders from the answer, and the test reads the DOM back.
LANG_PORTAL_PAGES = """
(async () => {
  const api = %s;
  const get = async (path) => {
    const response = await fetch(api + path);
    if (!response.ok) throw new Error(path + " answered " + response.status);
    return response.json();
  };
  const show = (id, text) => {
    const element = document.createElement("p");
    element.id = id;
    element.textContent = text;
    document.body.appendChild(element);
  };
  try {
    const activities = await get("/api/study-activities");
    show("activities", activities.map((a) => a.title).join(", "));
    const launch = await get("/api/study-activities/1/launch");
    show("groups", launch.groups.map((g) => g.name).join(", "));
    const posted = await fetch(api + "/study_sessions", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({group_id: launch.groups[1].id, study_activity_id: launch.activity.id}),
    });
    const created = await posted.json();
    const opened = new URL(launch.activity.launch_url);
    opened.searchParams.set("group_id", launch.groups[1].id);
    opened.searchParams.set("session_id", created.session_id);
    show("launched", opened.href);
    // Totals come from the stream consumer, which counts a create about a second later.
    for (let tries = 0; tries < 300; tries++) {
      if ((await get("/api/study-sessions?page=1&per_page=1")).total >= %s) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const detail = await get("/api/study-sessions/" + created.session_id);
    show("session", detail.session.group_name + " / " + detail.session.activity_name + " / "
         + detail.words.length + " words");
    const sessions = await get("/api/study-sessions?page=1&per_page=10");
    show("sessions", "Page " + sessions.page + " of " + sessions.total_pages + ", "
         + sessions.items.length + " shown");
    const mine = await get("/api/study-activities/1/sessions?page=1&per_page=10");
    show("activity-sessions", mine.total + " sessions of " + launch.activity.title);
    const [recent, stats] = await Promise.all([get("/dashboard/recent-session"), get("/dashboard/stats")]);
    show("dashboard", stats.total_sessions + " sessions, " + stats.total_vocabulary + " words, "
         + (recent && recent.activity_name ? "a recent session" : "no recent session"));
    const words = await get("/words?page=1&sort_by=kanji&order=asc");
    show("words", words.words.length + " of " + words.total_words + ", " + words.total_pages + " pages");
    const word = await get("/words/1");
    show("word", word.word.romaji + " in " + word.word.groups.map((g) => g.name).join(", "));
    const groups = await get("/groups?page=1&sort_by=name&order=asc");
    show("groups-page", groups.groups.map((g) => g.group_name + " (" + g.word_count + ")").join(", "));
    const [group, groupWords, groupSessions] = await Promise.all([get("/groups/2"),
      get("/groups/2/words?page=1&sort_by=kanji&order=asc"),
      get("/groups/2/study_sessions?page=1&sort_by=startTime&order=desc")]);
    const ours = groupSessions.study_sessions.some((s) => s.id === created.session_id);
    show("group", group.group_name + ": " + groupWords.words.length + " words, "
         + (ours || groupSessions.total_pages > 1 ? "its sessions listed" : "the new session missing"));
    return JSON.stringify({status: posted.status, id: created.session_id,
      texts: Object.fromEntries([...document.querySelectorAll("p[id]")].map((p) => [p.id, p.textContent]))});
  } catch (error) {
    return JSON.stringify({error: String(error)});
  }
})()
"""


def test_the_lang_portal_pages_work_from_a_browser_on_another_origin(browser, page_port, api_for_origin,
                                                                     local_server):
    api, log = api_for_origin
    before = local_server.session_count()
    browser.open(f"http://127.0.0.1:{page_port}/index.html")

    result = json.loads(browser.evaluate(LANG_PORTAL_PAGES % (json.dumps(api), before + 1)))

    assert "error" not in result, result
    assert result["status"] == 201
    total = before + 1
    assert result["texts"] == {
        "activities": "Typing Tutor",
        "groups": "Core Verbs, Core Adjectives",
        "launched": f"http://localhost:8080/?group_id=2&session_id={result['id']}",
        "session": "Core Adjectives / Typing Tutor / 0 words",
        "sessions": f"Page 1 of {-(-total // 10)}, {min(total, 10)} shown",
        "activity-sessions": f"{total} sessions of Typing Tutor",
        "dashboard": f"{total} sessions, 20 words, a recent session",
        "words": "10 of 20, 2 pages",
        "word": "taberu in Core Verbs",
        "groups-page": "Core Adjectives (10), Core Verbs (10)",
        "group": "Core Adjectives: 10 words, its sessions listed",
    }
    assert '"OPTIONS /study_sessions HTTP/1.1" 200' in log.read_text()


# Settings' Reset History, as the page sends it: JSON content type, no body (so preflighted).
RESET_FLOW = """
(async () => {
  const api = %s;
  const get = async (path) => (await fetch(api + path)).json();
  try {
    const start = (await get("/dashboard/stats")).total_sessions;
    const posted = await fetch(api + "/study_sessions", {method: "POST", headers: {"Content-Type":
      "application/json"}, body: JSON.stringify({group_id: 1, study_activity_id: 1})});
    const created = await posted.json();
    let before = start;  // until the stream consumer has counted the new session
    for (let tries = 0; tries < 300 && before <= start; tries++) {
      before = (await get("/dashboard/stats")).total_sessions;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const reset = await fetch(api + "/api/study-sessions/reset", {method: "POST",
      headers: {"Content-Type": "application/json"}});
    const message = (await reset.json()).message;
    const [recent, stats] = await Promise.all([get("/dashboard/recent-session"), get("/dashboard/stats")]);
    const old = await fetch(api + "/api/study-sessions/" + created.session_id);
    const words = await get("/words?page=1&sort_by=correct_count&order=desc");
    return JSON.stringify({id: created.session_id, before: before > start, reset: reset.status, message,
      recent, sessions: stats.total_sessions, streak: stats.current_streak, old: old.status,
      counted: words.words.filter((w) => w.correct_count + w.wrong_count > 0).length});
  } catch (error) {
    return JSON.stringify({error: String(error)});
  }
})()
"""


def test_the_settings_page_resets_the_history_from_another_origin(browser, page_port, api_for_origin,
                                                                   local_server):
    """Last in this module: it resets the implicit learner's history on the shared local server,
    and waits for the purge, so that no later test sees it half done."""
    api, log = api_for_origin
    browser.open(f"http://127.0.0.1:{page_port}/index.html")

    result = json.loads(browser.evaluate(RESET_FLOW % json.dumps(api)))

    assert "error" not in result, result
    assert {k: v for k, v in result.items() if k != "id"} == {
        "before": True, "reset": 200, "message": "Study history has been reset.", "recent": None,
        "sessions": 0, "streak": 0, "old": 404, "counted": 0}
    assert '"OPTIONS /api/study-sessions/reset HTTP/1.1" 200' in log.read_text()
    deadline = time.monotonic() + 60  # the poller runs the purge every few seconds
    history = {"learner": {"S": IMPLICIT_LEARNER}, "item": {"S": HISTORY}}
    while "purge_pending" in local_server.dynamodb.get_item(
            TableName=local_server.names["aggregates"], Key=history, ConsistentRead=True)["Item"]:
        assert time.monotonic() < deadline, "the purge did not delete the old history"
        time.sleep(0.5)
    assert "Item" not in local_server.dynamodb.get_item(TableName=local_server.names["study_sessions"],
                                                        Key={"id": {"S": result["id"]}})
