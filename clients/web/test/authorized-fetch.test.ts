import assert from "node:assert/strict";
import { test } from "node:test";

import { SignInRequired, createAuthorizedFetch, type AuthorizedFetchOptions } from "../src/authorized-fetch";
import { onPage, reportingInto } from "./page";

onPage("https://app.example.com/study/");
const API = "https://api.example.com/dev";

interface Sent { input: RequestInfo | URL; init?: RequestInit }

function recording(response: () => Response, sent: Sent[] = []): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    sent.push({ input, init });
    return response();
  }) as typeof fetch;
}

/** What reached the API: the one Request authorizedFetch built, the token among its headers. */
function received({ input, init }: Sent): Request {
  assert.ok(input instanceof Request);
  assert.equal(init, undefined);
  return input;
}

/** authorizedFetch on `apiBase`, answering `status`, counting the tokens asked for and the 401s heard. */
function onApi(apiBase: string | undefined, status = 200, options: Partial<AuthorizedFetchOptions> = {}) {
  const sent: Sent[] = [];
  const counts = { tokens: 0, heard: 0 };
  const authorizedFetch = createAuthorizedFetch({
    apiBase, idToken: async () => (counts.tokens++, "id-token"), onSignInRequired: () => counts.heard++,
    fetch: recording(() => new Response(null, { status }), sent), ...options,
  });
  return { authorizedFetch, sent, counts };
}

test("it sends what fetch would, plus the ID token, and answers fetch's own Response", async () => {
  const sent: Sent[] = [];
  const answer = new Response('{"items":[]}', { status: 200 });
  const authorizedFetch = createAuthorizedFetch({ apiBase: API, idToken: async () => "id-token",
                                                  fetch: recording(() => answer, sent) });

  const response = await authorizedFetch(`${API}/api/groups`, {
    method: "POST", body: "plain", headers: { "X-Trace": "1" },
  });

  assert.equal(response, answer);
  const request = received(sent[0]);
  assert.equal(request.url, `${API}/api/groups`);
  assert.equal(request.method, "POST");
  assert.equal(await request.text(), "plain");
  assert.deepEqual([...request.headers], [["authorization", "id-token"], ["content-type", "text/plain;charset=UTF-8"],
                                          ["x-trace", "1"]]);
});

test("a Request keeps its own headers, unless init brings headers, as with fetch", async () => {
  const { authorizedFetch, sent } = onApi(API);
  const request = new Request(`${API}/x`, { headers: { "X-From": "request" } });

  await authorizedFetch(request);
  await authorizedFetch(request, { headers: { "X-From": "init" } });

  assert.deepEqual([...received(sent[0]).headers], [["authorization", "id-token"], ["x-from", "request"]]);
  assert.deepEqual([...received(sent[1]).headers], [["authorization", "id-token"], ["x-from", "init"]]);
});

test("an init whose fields are inherited (a Request as init, a class with getters) keeps its method and body", async () => {
  const { authorizedFetch, sent } = onApi(API);
  class SessionInit {
    get method() { return "PUT"; }
    get body() { return "from getters"; }
    get headers() { return { "X-From": "getters" }; }
  }
  const asInit = new Request(`${API}/elsewhere`, { method: "PATCH", body: "from a request", headers: { "X-From": "request" } });

  await authorizedFetch(`${API}/api/study-sessions/s1`, new SessionInit() as RequestInit);
  await authorizedFetch(`${API}/api/study-sessions/s2`, asInit);

  const [fromGetters, fromRequest] = sent.map(received);
  assert.deepEqual([fromGetters.url, fromGetters.method, await fromGetters.text(), fromGetters.headers.get("X-From")],
                   [`${API}/api/study-sessions/s1`, "PUT", "from getters", "getters"]);
  assert.deepEqual([fromRequest.url, fromRequest.method, await fromRequest.text(), fromRequest.headers.get("X-From")],
                   [`${API}/api/study-sessions/s2`, "PATCH", "from a request", "request"]);
  assert.equal(fromRequest.headers.get("Authorization"), "id-token");
});

test("a streamed body (duplex) and every other field of init reach the API", async () => {
  const { authorizedFetch, sent } = onApi(API);
  const abort = new AbortController();
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("streamed"));
      controller.close();
    },
  });

  await authorizedFetch(`${API}/api/upload`, {
    method: "POST", body, duplex: "half", signal: abort.signal, cache: "no-store", credentials: "include",
    redirect: "manual", referrerPolicy: "no-referrer", integrity: "sha256-abc", keepalive: false, mode: "cors",
  } as RequestInit);
  abort.abort();

  const request = received(sent[0]);
  assert.equal(await request.text(), "streamed");
  assert.deepEqual(
    [request.cache, request.credentials, request.redirect, request.referrerPolicy, request.integrity, request.mode],
    ["no-store", "include", "manual", "no-referrer", "sha256-abc", "cors"]);
  assert.equal(request.signal.aborted, true); // follows the caller's signal
});

test("a request to another origin is fetch's own call: no token asked or sent, and its 401 calls no listener", async () => {
  const { authorizedFetch, sent, counts } = onApi(API, 401);
  const init = { headers: { Accept: "application/json" } };

  const response = await authorizedFetch("https://tracker.example.org/dev/pixel", init);

  assert.equal(response.status, 401);
  assert.deepEqual(sent, [{ input: "https://tracker.example.org/dev/pixel", init }]); // the very same input and init
  assert.deepEqual(counts, { tokens: 0, heard: 0 });
});

test("a URL that only looks like the API base's is not the API", async () => {
  const lookalikes = {
    "https://api.example.com": [
      "https://api.example.com.evil.com/dashboard/stats", "https://api.example.com@evil.example/dashboard/stats",
      "https://evil.example/?https://api.example.com/", "http://api.example.com/dashboard/stats",
      "https://api.example.com:8443/dashboard/stats", "//evil.example/api.example.com", "data:text/plain,api.example.com",
    ],
    [API]: [
      "https://api.example.com/devil/api/groups", "https://api.example.com/api/dev/groups",
      "https://api.example.com/dev/../admin", "https://api.example.com/dev%2Fx", "https://api.example.com/",
    ],
  };
  for (const [apiBase, urls] of Object.entries(lookalikes)) {
    const { authorizedFetch, sent, counts } = onApi(apiBase, 401);
    for (const url of urls) await authorizedFetch(url);
    assert.deepEqual(sent.map((call) => call.input), urls, apiBase);
    assert.deepEqual(sent.map((call) => call.init), urls.map(() => undefined), apiBase);
    assert.deepEqual(counts, { tokens: 0, heard: 0 }, apiBase);
  }
});

test("the API gets the token however the request names it, at or below the base's path", async () => {
  const { authorizedFetch, sent, counts } = onApi(`${API}/`, 401);

  await authorizedFetch(API);
  await authorizedFetch(`${API}/api/groups?limit=5`);
  await authorizedFetch(new URL(`${API}/dashboard/stats`));
  await authorizedFetch(new Request(`${API}/api/study-sessions`));
  await authorizedFetch("HTTPS://API.EXAMPLE.COM:443/dev/api/groups");

  assert.deepEqual(sent.map((call) => [received(call).url, received(call).headers.get("Authorization")]), [
    [API, "id-token"], [`${API}/api/groups?limit=5`, "id-token"], [`${API}/dashboard/stats`, "id-token"],
    [`${API}/api/study-sessions`, "id-token"], [`${API}/api/groups`, "id-token"],
  ]);
  assert.deepEqual(counts, { tokens: 5, heard: 5 });
});

test("a relative API base is the page's; without one, the API is the page's own origin", async () => {
  const relative = onApi("/dev");
  await relative.authorizedFetch("/dev/api/groups");
  await relative.authorizedFetch("https://app.example.com/dev");
  await relative.authorizedFetch("/study/other");
  await relative.authorizedFetch(`${API}/api/groups`);
  assert.deepEqual(relative.sent.map((call) => call.input instanceof Request && call.input.url), [
    "https://app.example.com/dev/api/groups", "https://app.example.com/dev", false, false]);

  for (const apiBase of [undefined, ""]) {
    const own = onApi(apiBase);
    await own.authorizedFetch("/api/groups");
    await own.authorizedFetch("https://app.example.com/dashboard/stats");
    await own.authorizedFetch(`${API}/api/groups`);
    await own.authorizedFetch("https://app.example.com.evil.com/api/groups");
    assert.deepEqual(own.sent.map((call) => call.input instanceof Request && call.input.url), [
      "https://app.example.com/api/groups", "https://app.example.com/dashboard/stats", false, false]);
  }
});

test("a 401 of the API is announced before the Response is handed back; other statuses are not", async () => {
  const heard: string[] = [];
  let status = 401;
  const authorizedFetch = createAuthorizedFetch({
    idToken: async () => "expired", onSignInRequired: () => heard.push("sign in"),
    fetch: recording(() => new Response("{}", { status })),
  });

  const refused = await authorizedFetch("/dashboard/stats");
  heard.push(`returned ${refused.status}`);
  for (status of [200, 403, 500]) await authorizedFetch("/dashboard/stats");

  assert.deepEqual(heard, ["sign in", "returned 401"]);
});

test("a listener that throws changes nothing of the call: its Response is returned, the error reported", async () => {
  const reported: unknown[] = [];
  const mistake = new Error("the listener's own bug");
  const { authorizedFetch } = onApi(API, 401, { onSignInRequired: () => { throw mistake; } });

  await reportingInto(reported, async () => {
    assert.equal((await authorizedFetch(`${API}/dashboard/stats`)).status, 401);
  });

  assert.deepEqual(reported, [mistake]);
});

test("where reportError is missing, a listener's error is thrown from a timer of its own", async () => {
  const mistake = new Error("the listener's own bug");
  const realSetTimeout = globalThis.setTimeout;
  const later: Array<() => void> = [];
  const { authorizedFetch } = onApi(API, 401, {
    onSignInRequired: () => { throw mistake; },
    fetch: (async () => {
      globalThis.setTimeout = ((callback: () => void) => later.push(callback)) as unknown as typeof setTimeout;
      return new Response(null, { status: 401 });
    }) as typeof fetch,
  });

  try {
    assert.equal(typeof (globalThis as { reportError?: unknown }).reportError, "undefined"); // Node has none
    assert.equal((await authorizedFetch(`${API}/dashboard/stats`)).status, 401);
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }

  assert.equal(later.length, 1);
  assert.throws(later[0], (error) => error === mistake);
});

test("without a usable token the request goes out unsigned, as given", async () => {
  const sent: Sent[] = [];
  const authorizedFetch = createAuthorizedFetch({
    idToken: async () => { throw new SignInRequired(); }, fetch: recording(() => new Response(null, { status: 401 }), sent),
  });
  const init = { headers: { Accept: "application/json" } };

  const response = await authorizedFetch("/dashboard/stats", init);

  assert.equal(response.status, 401);
  assert.deepEqual(sent, [{ input: "/dashboard/stats", init }]);
});

test("a network failure rejects as fetch's does, and is no sign-in prompt", async () => {
  let announced = 0;
  const failure = new TypeError("Failed to fetch");
  const authorizedFetch = createAuthorizedFetch({
    idToken: async () => "t", onSignInRequired: () => announced++,
    fetch: (async () => { throw failure; }) as typeof fetch,
  });

  await assert.rejects(authorizedFetch("/api/groups"), (error) => error === failure);
  assert.equal(announced, 0);
});
