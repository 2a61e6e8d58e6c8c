import assert from "node:assert/strict";
import { test } from "node:test";

import { SignInRequired, createAuthorizedFetch } from "../src/authorized-fetch";

interface Sent { input: RequestInfo | URL; init?: RequestInit }

function recording(response: () => Response, sent: Sent[] = []): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    sent.push({ input, init });
    return response();
  }) as typeof fetch;
}

test("it sends what fetch would, plus the ID token, and answers fetch's own Response", async () => {
  const sent: Sent[] = [];
  const answer = new Response('{"items":[]}', { status: 200 });
  const authorizedFetch = createAuthorizedFetch({ idToken: async () => "id-token", fetch: recording(() => answer, sent) });

  const response = await authorizedFetch("https://api.example/dev/api/groups", {
    method: "POST", body: "plain", headers: { "X-Trace": "1" },
  });

  assert.equal(response, answer);
  assert.equal(sent[0].input, "https://api.example/dev/api/groups");
  assert.equal(sent[0].init?.method, "POST");
  assert.equal(sent[0].init?.body, "plain");
  const headers = new Headers(sent[0].init?.headers);
  assert.deepEqual([...headers], [["authorization", "id-token"], ["x-trace", "1"]]);
});

test("a Request keeps its own headers, unless init brings headers, as with fetch", async () => {
  const sent: Sent[] = [];
  const authorizedFetch = createAuthorizedFetch({ idToken: async () => "t", fetch: recording(() => new Response(), sent) });
  const request = new Request("https://api.example/x", { headers: { "X-From": "request" } });

  await authorizedFetch(request);
  await authorizedFetch(request, { headers: { "X-From": "init" } });

  assert.equal(sent[0].input, request);
  assert.deepEqual([...new Headers(sent[0].init?.headers)], [["authorization", "t"], ["x-from", "request"]]);
  assert.deepEqual([...new Headers(sent[1].init?.headers)], [["authorization", "t"], ["x-from", "init"]]);
});

test("a 401 is announced before the Response is handed back; other statuses are not", async () => {
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

test("without a usable token the request goes out unsigned", async () => {
  const sent: Sent[] = [];
  const authorizedFetch = createAuthorizedFetch({
    idToken: async () => { throw new SignInRequired(); }, fetch: recording(() => new Response(null, { status: 401 }), sent),
  });

  const response = await authorizedFetch("/dashboard/stats", { headers: { Accept: "application/json" } });

  assert.equal(response.status, 401);
  assert.deepEqual([...new Headers(sent[0].init?.headers)], [["accept", "application/json"]]);
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
