import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { SignInRequired } from "../src/authorized-fetch";
import { apiBase, apiFetch, authorizedFetch, configure, onSignInRequired } from "../src/client";
import { onPage, reportingInto } from "./page";

onPage("https://app.example/");

const realFetch = globalThis.fetch;
afterEach(() => { globalThis.fetch = realFetch; });

function serve(status: number): Array<[string, Headers]> {
  const sent: Array<[string, Headers]> = [];
  globalThis.fetch = (async (url: string, init?: RequestInit) => {
    sent.push([url, new Headers(init?.headers)]);
    return new Response(JSON.stringify({ error: "Sign in.", code: "unauthorized" }), { status });
  }) as typeof fetch;
  return sent;
}

test("configured without sign-in, apiFetch calls the stage's API base with no token", async () => {
  configure({ apiBase: "https://api.example/dev/", signIn: null });
  const sent = serve(200);

  await apiFetch("/api/groups");

  assert.equal(apiBase(), "https://api.example/dev");
  assert.equal(sent[0][0], "https://api.example/dev/api/groups");
  assert.equal(sent[0][1].has("Authorization"), false);
});

test("every listener hears each 401 of authorizedFetch and apiFetch until it is removed", async () => {
  configure({ apiBase: "", signIn: null });
  serve(401);
  let heard = 0;
  const stopListening = onSignInRequired(() => heard++);

  assert.equal((await authorizedFetch("/dashboard/stats")).status, 401);
  await assert.rejects(apiFetch("/dashboard/stats"), SignInRequired);
  stopListening();
  await authorizedFetch("/dashboard/stats");

  assert.equal(heard, 2);
});

test("only the configured API's 401 is announced: another site's is the app's own business", async () => {
  configure({ apiBase: "https://api.example/dev", signIn: null });
  serve(401);
  let heard = 0;
  const stopListening = onSignInRequired(() => heard++);

  for (const url of ["https://elsewhere.example/dev/x", "https://api.example/devil", "/dev/x"]) {
    assert.equal((await authorizedFetch(url)).status, 401);
  }
  assert.equal(heard, 0);
  await authorizedFetch("https://api.example/dev/dashboard/stats");
  stopListening();

  assert.equal(heard, 1);
});

test("a listener that throws keeps neither the other listeners nor the call from their course", async () => {
  configure({ apiBase: "", signIn: null });
  serve(401);
  const mistake = new Error("the listener's own bug");
  const reported: unknown[] = [];
  let heard = 0;
  const stopThrowing = onSignInRequired(() => { throw mistake; });
  const stopListening = onSignInRequired(() => heard++);

  await reportingInto(reported, async () => {
    assert.equal((await authorizedFetch("/dashboard/stats")).status, 401);
    await assert.rejects(apiFetch("/dashboard/stats"), SignInRequired);
  });
  stopThrowing();
  stopListening();

  assert.equal(heard, 2);
  assert.deepEqual(reported, [mistake, mistake]);
});
