// apiFetch: one call to the study-sessions API through authorizedFetch (the learner's ID token),
// its answer turned into a value or a typed error. Request and answer types come from
// openapi.yaml (npm run generate).
import type { components } from "./api-types.js";
import { SignInRequired, createAuthorizedFetch, type AuthorizedFetchOptions } from "./authorized-fetch.js";

export type { components, paths } from "./api-types.js";

export type Schemas = components["schemas"];
export type DashboardStats = Schemas["DashboardStats"];
export type RecentSession = Schemas["RecentSession"];
export type Session = Schemas["Session"];
export type CreatedSession = Schemas["CreatedSession"];
export type NewSession = Schemas["NewSession"];
export type NewReview = Schemas["NewReview"];
export type Review = Schemas["Review"];
export type Word = Schemas["Word"];
export type Group = Schemas["Group"];
export type DueWord = Schemas["DueWord"];
export type DueWordPage = Schemas["DueWordPage"];
export type ErrorBody = Schemas["Error"];
export type Scheduler = Schemas["Scheduler"];
export type SchedulerChange = Schemas["SchedulerChange"];
export interface CursorPage<T> { items: T[]; next_cursor: string | null }

/** Any other answer that is not a success: the API's own sentence and machine code. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

export interface ApiOptions extends Omit<AuthorizedFetchOptions, "apiBase"> {
  /** The API's base URL; its requests, and only they, carry the token. */
  baseUrl: string;
}

export type ApiFetch = <T>(path: string, init?: RequestInit) => Promise<T>;

/** apiFetch(path, init): the parsed body of a success; SignInRequired on a 401, ApiError otherwise. */
export function createApiFetch({ baseUrl, ...options }: ApiOptions): ApiFetch {
  const base = baseUrl.replace(/\/+$/, "");
  const send = createAuthorizedFetch({ ...options, apiBase: base });
  return async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
    const headers = new Headers(init.headers);
    if (init.body !== undefined && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
    const response = await send(`${base}${path}`, { ...init, headers });
    const body = await readJson(response);
    if (response.status === 401) throw new SignInRequired(errorOf(body)?.error ?? "Please sign in.");
    if (!response.ok) {
      const error = errorOf(body);
      throw new ApiError(response.status, error?.code ?? "unknown", error?.error ?? `HTTP ${response.status}`);
    }
    return body as T;
  };
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorOf(body: unknown): ErrorBody | null {
  return body && typeof body === "object" && "error" in body ? (body as ErrorBody) : null;
}

/** The largest page the API serves (openapi.yaml's Limit): fewest calls for a count. */
const LARGEST_PAGE = 100;

/** How many of a group's words are due now, from its due-words pages: the due words come first,
 * then the new ones (state "new"), so the count ends at the first new word or the last page. */
export async function countDue(page: (cursor: string | null) => Promise<DueWordPage>): Promise<number> {
  let due = 0;
  for (let cursor: string | null = null; ;) {
    const { items, next_cursor }: DueWordPage = await page(cursor);
    const firstNew = items.findIndex((word) => word.state === "new");
    due += firstNew === -1 ? items.length : firstNew;
    if (firstNew !== -1 || !next_cursor) return due;
    cursor = next_cursor;
  }
}

export interface ReviewOptions {
  /** Sent as Idempotency-Key: the same answer sent again with it is stored once. */
  idempotencyKey?: string;
}

/** The calls the /app page makes, each one apiFetch. */
export function studySessionsApi(apiFetch: ApiFetch) {
  const post = (body: unknown, headers?: HeadersInit): RequestInit =>
    ({ method: "POST", body: JSON.stringify(body), headers });
  const session = (sessionId: string) => `/api/study-sessions/${encodeURIComponent(sessionId)}`;
  const dueWords = (groupId: number, limit = 20, cursor: string | null = null) =>
    apiFetch<DueWordPage>(`/api/groups/${groupId}/due-words?limit=${limit}` +
                          (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""));
  return {
    stats: () => apiFetch<DashboardStats>("/dashboard/stats"),
    sessions: (limit = 5) => apiFetch<CursorPage<Session>>(`/api/study-sessions?limit=${limit}`),
    groups: () => apiFetch<CursorPage<Group>>("/api/groups?limit=100"),
    groupWords: (groupId: number, limit = 5) =>
      apiFetch<CursorPage<Word>>(`/api/groups/${groupId}/words?limit=${limit}`),
    startSession: (session: NewSession) => apiFetch<CreatedSession>("/api/study-sessions", post(session)),
    review: (sessionId: string, review: NewReview, { idempotencyKey }: ReviewOptions = {}) =>
      apiFetch<Review>(`${session(sessionId)}/review`,
                       post(review, idempotencyKey === undefined ? undefined : { "Idempotency-Key": idempotencyKey })),
    /** What to study next in the session's group: its due words, most overdue first, then new ones. */
    nextWords: (sessionId: string, limit = 5) => apiFetch<DueWordPage>(`${session(sessionId)}/next-words?limit=${limit}`),
    dueWords,
    /** How many of the group's words are due now (one due-words page of 100 unless more are due). */
    dueNow: (groupId: number) => countDue((cursor) => dueWords(groupId, LARGEST_PAGE, cursor)),
    /** The learner's scheduler (GET /api/me/scheduler); a 404 (ApiError) where the API has no such route. */
    scheduler: () => apiFetch<Scheduler>("/api/me/scheduler"),
    /** Chooses the desired retention (0.70 to 0.97; PUT /api/me/scheduler): the scheduler as stored,
     * or ApiError 400 with the API's sentence for a value outside, and nothing written. */
    setDesiredRetention: (desiredRetention: number) =>
      apiFetch<Scheduler>("/api/me/scheduler",
                          { method: "PUT", body: JSON.stringify({ desired_retention: desiredRetention } satisfies SchedulerChange) }),
  };
}
