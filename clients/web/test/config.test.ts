import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { configFromEnv, readConfig } from "../src/config";

const realFetch = globalThis.fetch;
afterEach(() => { globalThis.fetch = realFetch; });

function serve(status: number, body: unknown): string[] {
  const asked: string[] = [];
  globalThis.fetch = (async (url: string) => {
    asked.push(url);
    return new Response(JSON.stringify(body), { status });
  }) as typeof fetch;
  return asked;
}

test("the VITE_* variables of make frontend-config become the settings", () => {
  const env = { VITE_API_BASE_URL: "http://127.0.0.1:8000", VITE_AWS_REGION: "us-east-1",
                VITE_USER_POOL_ID: "us-east-1_abc", VITE_USER_POOL_CLIENT_ID: "client",
                VITE_USER_POOL_ENDPOINT: "http://127.0.0.1:8002", MODE: "production", DEV: false };

  assert.deepEqual(configFromEnv(env), {
    apiBase: "http://127.0.0.1:8000",
    signIn: { region: "us-east-1", userPoolId: "us-east-1_abc", userPoolClientId: "client",
              userPoolEndpoint: "http://127.0.0.1:8002" },
  });
  const { VITE_USER_POOL_ENDPOINT: _, ...deployed } = env;
  assert.equal("userPoolEndpoint" in configFromEnv(deployed).signIn!, false);
});

test("no pool is a stage without sign-in; half a pool or no API base is refused with the variable's name", () => {
  assert.deepEqual(configFromEnv({ VITE_API_BASE_URL: "http://127.0.0.1:8000" }),
                   { apiBase: "http://127.0.0.1:8000", signIn: null });
  assert.throws(() => configFromEnv({ VITE_USER_POOL_ID: "p" }), /VITE_API_BASE_URL is not set/);
  assert.throws(() => configFromEnv({ VITE_API_BASE_URL: "x", VITE_USER_POOL_ID: "p", VITE_AWS_REGION: "r" }),
                /VITE_USER_POOL_CLIENT_ID/);
});

test("a config.json is read at run time, as /app/config.json is served", async () => {
  const settings = { apiBase: "", signIn: { region: "r", userPoolId: "p", userPoolClientId: "c" } };
  const asked = serve(200, settings);

  assert.deepEqual(await readConfig("/config.json"), settings);
  assert.deepEqual(asked, ["/config.json"]);
});

test("a config.json that is missing or of another shape is refused with its URL", async () => {
  serve(404, { error: "nope" });
  await assert.rejects(readConfig("/config.json"), /\/config\.json answered 404/);
  serve(200, { apiBase: "", signIn: { region: "r" } });
  await assert.rejects(readConfig("/config.json"), /\/config\.json holds no/);
});

test("settings given as they are, or as import.meta.env, need no request", async () => {
  const asked = serve(500, {});
  const settings = { apiBase: "https://api.example/dev", signIn: null };

  assert.equal(await readConfig(settings), settings);
  assert.deepEqual(await readConfig({ VITE_API_BASE_URL: "https://api.example/dev" }), settings);
  assert.deepEqual(asked, []);
});
