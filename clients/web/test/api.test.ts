import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, countDue, createApiFetch, studySessionsApi } from "../src/api";
import { SignInRequired } from "../src/authorized-fetch";
import { onPage } from "./page";

onPage("https://app.example/");

interface Sent { url: string; method: string; headers: Headers; body: string }

function fakeFetch(status: number, body: unknown, sent: Sent[] = []): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input instanceof Request ? input : new URL(String(input), location.href), init);
    sent.push({ url: request.url, method: request.method, headers: request.headers, body: await request.text() });
    return new Response(body === null ? "" : JSON.stringify(body), { status });
  }) as typeof fetch;
}

test("apiFetch sends the ID token and JSON, and answers the parsed body", async () => {
  const sent: Sent[] = [];
  const apiFetch = createApiFetch({ baseUrl: "https://api.example/dev/", idToken: async () => "id-token",
                                    fetch: fakeFetch(201, { id: "s1" }, sent) });

  const answer = await apiFetch<{ id: string }>("/api/study-sessions", { method: "POST", body: "{}" });

  assert.deepEqual(answer, { id: "s1" });
  assert.equal(sent[0].url, "https://api.example/dev/api/study-sessions");
  assert.equal(sent[0].headers.get("Authorization"), "id-token");
  assert.equal(sent[0].headers.get("Content-Type"), "application/json");
});

test("without sign-in no Authorization header is sent", async () => {
  const sent: Sent[] = [];
  const apiFetch = createApiFetch({ baseUrl: "http://127.0.0.1:8000", idToken: async () => null,
                                    fetch: fakeFetch(200, { items: [] }, sent) });

  await apiFetch("/api/groups");

  assert.equal(sent[0].headers.has("Authorization"), false);
});

test("a 401 becomes SignInRequired with the API's sentence", async () => {
  const apiFetch = createApiFetch({ baseUrl: "", idToken: async () => "expired",
                                    fetch: fakeFetch(401, { error: "Sign in first.", code: "unauthorized" }) });

  await assert.rejects(apiFetch("/dashboard/stats"),
                       (error: unknown) => error instanceof SignInRequired && error.message === "Sign in first.");
});

test("no token at all: the call goes out unsigned, and the API's 401 is SignInRequired, announced", async () => {
  const sent: Sent[] = [];
  let announced = 0;
  const apiFetch = createApiFetch({ baseUrl: "", idToken: async () => { throw new SignInRequired(); },
                                    fetch: fakeFetch(401, { error: "No token.", code: "unauthorized" }, sent),
                                    onSignInRequired: () => announced++ });

  await assert.rejects(apiFetch("/dashboard/stats"), SignInRequired);
  assert.equal(sent[0].headers.has("Authorization"), false);
  assert.equal(announced, 1);
});

test("another error keeps its status, code and sentence", async () => {
  const apiFetch = createApiFetch({ baseUrl: "", idToken: async () => "t",
                                    fetch: fakeFetch(404, { error: "Group 7 does not exist.", code: "not_found" }) });

  await assert.rejects(apiFetch("/api/groups/7"), (error: unknown) =>
    error instanceof ApiError && error.status === 404 && error.code === "not_found" &&
    error.message === "Group 7 does not exist.");
});

test("the page's calls name the documented routes", async () => {
  const sent: Sent[] = [];
  const api = studySessionsApi(createApiFetch({ baseUrl: "", idToken: async () => "t",
                                                fetch: fakeFetch(201, {}, sent) }));

  await api.startSession({ group_id: 1, study_activity_id: 1 });
  await api.review("a b", { word_id: 3, correct: false });

  assert.deepEqual(sent.map((s) => [s.method, s.url, s.body]), [
    ["POST", "https://app.example/api/study-sessions", '{"group_id":1,"study_activity_id":1}'],
    ["POST", "https://app.example/api/study-sessions/a%20b/review", '{"word_id":3,"correct":false}'],
  ]);
});

test("a path that takes apiFetch off its base's origin goes out without the token", async () => {
  const sent: Sent[] = [];
  const fetchAll = fakeFetch(200, {}, sent);
  const onHost = createApiFetch({ baseUrl: "https://api.example", idToken: async () => "t", fetch: fetchAll });
  const onOwnOrigin = createApiFetch({ baseUrl: "", idToken: async () => "t", fetch: fetchAll });

  await onHost(".evil.example/api/groups");
  await onOwnOrigin("//evil.example/api/groups");
  await onHost("/api/groups");

  assert.deepEqual(sent.map((s) => [s.url, s.headers.get("Authorization")]), [
    ["https://api.example.evil.example/api/groups", null], ["https://evil.example/api/groups", null],
    ["https://api.example/api/groups", "t"],
  ]);
});

test("a review sent with an idempotency key carries it as Idempotency-Key; without one, none", async () => {
  const sent: Sent[] = [];
  const api = studySessionsApi(createApiFetch({ baseUrl: "", idToken: async () => "t", fetch: fakeFetch(201, {}, sent) }));

  await api.review("s1", { word_id: 3, correct: true }, { idempotencyKey: "k-1" });
  await api.review("s1", { word_id: 4, correct: false });

  assert.deepEqual(sent.map((s) => [s.url, s.headers.get("Idempotency-Key"), s.headers.get("Content-Type"), s.body]), [
    ["https://app.example/api/study-sessions/s1/review", "k-1", "application/json", '{"word_id":3,"correct":true}'],
    ["https://app.example/api/study-sessions/s1/review", null, "application/json", '{"word_id":4,"correct":false}'],
  ]);
});

test("next words, due words and the scheduler name their documented routes", async () => {
  const sent: Sent[] = [];
  const api = studySessionsApi(createApiFetch({ baseUrl: "", idToken: async () => "t",
                                                fetch: fakeFetch(200, { items: [], next_cursor: null }, sent) }));

  await api.nextWords("a b", 5);
  await api.dueWords(2, 20, "c+/=");
  await api.scheduler();

  assert.deepEqual(sent.map((s) => [s.method, s.url]), [
    ["GET", "https://app.example/api/study-sessions/a%20b/next-words?limit=5"],
    ["GET", "https://app.example/api/groups/2/due-words?limit=20&cursor=c%2B%2F%3D"],
    ["GET", "https://app.example/api/me/scheduler"],
  ]);
});

const dueWord = (id: number, state: "learning" | "review" | "relearning" | "new") =>
  ({ id, kanji: "k", romaji: "r", english: "e", state, due: state === "new" ? null : "2026-01-01T00:00:00Z",
     retrievability: state === "new" ? null : 0.5 });

test("countDue counts the due words up to the first new one, reading no page after it", async () => {
  const asked: Array<string | null> = [];
  const pages: Record<string, { items: ReturnType<typeof dueWord>[]; next_cursor: string | null }> = {
    first: { items: [dueWord(1, "review"), dueWord(2, "learning")], next_cursor: "second" },
    second: { items: [dueWord(3, "relearning"), dueWord(4, "new")], next_cursor: "third" },
  };

  const count = await countDue(async (cursor) => { asked.push(cursor); return pages[cursor ?? "first"]; });

  assert.equal(count, 3);
  assert.deepEqual(asked, [null, "second"]);
});

test("countDue: all due to the last page, none due, an empty group", async () => {
  const one = (items: ReturnType<typeof dueWord>[]) => async () => ({ items, next_cursor: null });

  assert.equal(await countDue(one([dueWord(1, "review"), dueWord(2, "review")])), 2);
  assert.equal(await countDue(one([dueWord(1, "new"), dueWord(2, "new")])), 0);
  assert.equal(await countDue(one([])), 0);
});

test("dueNow reads the group's due words 100 at a time, following the cursor while all are due", async () => {
  const sent: Sent[] = [];
  const answers = [
    { items: Array.from({ length: 100 }, (_, i) => dueWord(i + 1, "review")), next_cursor: "next" },
    { items: [dueWord(101, "review"), dueWord(102, "new")], next_cursor: "more" },
  ];
  const fetchPages = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input instanceof Request ? input : new URL(String(input), location.href), init);
    sent.push({ url: request.url, method: request.method, headers: request.headers, body: "" });
    return new Response(JSON.stringify(answers[sent.length - 1]), { status: 200 });
  }) as typeof fetch;
  const api = studySessionsApi(createApiFetch({ baseUrl: "", idToken: async () => "t", fetch: fetchPages }));

  assert.equal(await api.dueNow(1), 101);
  assert.deepEqual(sent.map((s) => s.url), [
    "https://app.example/api/groups/1/due-words?limit=100",
    "https://app.example/api/groups/1/due-words?limit=100&cursor=next",
  ]);
});

test("the scheduler's 404 is an ApiError the page can tell apart", async () => {
  const api = studySessionsApi(createApiFetch({ baseUrl: "", idToken: async () => "t",
    fetch: fakeFetch(404, { error: "No route matches this method and path.", code: "not_found" }) }));

  await assert.rejects(api.scheduler(), (error: unknown) =>
    error instanceof ApiError && error.status === 404 && error.code === "not_found");
});

test("setDesiredRetention sends PUT /api/me/scheduler with the retention as JSON, and answers the scheduler stored", async () => {
  const sent: Sent[] = [];
  const stored = { parameters: [], source: "default", desired_retention: 0.85, version: 1, fitted_at: null,
                   reviews_used: null, evaluation: null, summary: null, next_fit_after: 1000 };
  const api = studySessionsApi(createApiFetch({ baseUrl: "", idToken: async () => "t", fetch: fakeFetch(200, stored, sent) }));

  const answer = await api.setDesiredRetention(0.85);

  assert.deepEqual(answer, stored);
  assert.deepEqual(sent.map((s) => [s.method, s.url, s.headers.get("Authorization"), s.headers.get("Content-Type"), s.body]), [
    ["PUT", "https://app.example/api/me/scheduler", "t", "application/json", '{"desired_retention":0.85}'],
  ]);
});

test("a retention the API refuses is an ApiError 400 with the API's own sentence", async () => {
  const sentence = "desired_retention must be a number from 0.7 to 0.97 (the share of due words you aim to remember).";
  const api = studySessionsApi(createApiFetch({ baseUrl: "", idToken: async () => "t",
    fetch: fakeFetch(400, { error: sentence, code: "validation_error" }) }));

  await assert.rejects(api.setDesiredRetention(0.5), (error: unknown) =>
    error instanceof ApiError && error.status === 400 && error.code === "validation_error" && error.message === sentence);
});
