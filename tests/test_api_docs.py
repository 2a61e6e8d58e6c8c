"""`make run`'s API docs at /docs: Swagger UI on openapi.yaml, served offline, whose
"Try it out" creates a session on the running API."""
import json
import uuid

import requests

# Waits for Swagger UI to render, then acts as a person would: open the create, "Try it out",
# type an Idempotency-Key of its own, "Execute" the example body, and read the answer shown.
TRY_CREATE = """
(async () => {
  const until = async (find) => {
    for (let tries = 0; tries < 300; tries++) {
      const found = find();
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("not shown: " + find);
  };
  try {
    const create = await until(() => document.getElementById("operations-default-createStudySession"));
    const operations = [...document.querySelectorAll(".opblock")].map((block) =>
      block.querySelector(".opblock-summary-method").textContent + " "
      + block.querySelector(".opblock-summary-path").getAttribute("data-path"));
    create.querySelector(".opblock-summary-control").click();
    (await until(() => create.querySelector(".try-out__btn"))).click();
    const key = await until(() => create.querySelector("tr[data-param-name='Idempotency-Key'] input"));
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(key, %s);
    key.dispatchEvent(new Event("input", {bubbles: true}));  // typed, as React sees it
    (await until(() => create.querySelector("button.execute"))).click();
    const status = await until(
      () => create.querySelector(".live-responses-table tbody .response-col_status"));
    const body = create.querySelector(".live-responses-table .response-col_description pre").textContent;
    const loaded = performance.getEntriesByType("resource").map((entry) => entry.name);
    return JSON.stringify({operations, status: status.textContent.trim(), body: JSON.parse(body), loaded});
  } catch (error) {
    return JSON.stringify({error: String(error)});
  }
})()
"""


def test_the_docs_list_every_operation_and_try_it_out_creates_a_session(browser, local_server):
    before = local_server.session_count()
    browser.open(local_server.url("/docs"))

    result = json.loads(browser.evaluate(TRY_CREATE % json.dumps(f"docs-{uuid.uuid4()}")))

    assert "error" not in result, result
    spec = requests.get(local_server.url("/docs/openapi.json"), timeout=10).json()
    assert result["operations"] == [f"{method.upper()} {path}" for path, operations in spec["paths"].items()
                                    for method in operations]
    assert result["status"] == "201"
    assert result["body"]["group_name"] == "Core Verbs"
    assert local_server.session_count() == before + 1
    assert all(url.startswith(local_server.base_url) for url in result["loaded"]), result["loaded"]
