// fetch with the learner's ID token: the same signature and result as fetch, so a fetch-based app
// changes only the function's name at each call site. Only requests to the API carry the token;
// a 401 from it is reported to the app (to show its sign-in form) before the Response is handed
// back as fetch would hand it. Every other request is fetch's own, untouched.
import { tell } from "./listener.js";

/** The ID token to send, or null on a stage without sign-in; throws SignInRequired when a
 * stage with sign-in has no usable token (signed out, or the refresh failed). */
export type IdTokenSource = () => Promise<string | null>;

/** The learner must sign in (again): no usable token, or the API answered 401. */
export class SignInRequired extends Error {
  constructor(message = "Please sign in.") {
    super(message);
    this.name = "SignInRequired";
  }
}

export interface AuthorizedFetchOptions {
  idToken: IdTokenSource;
  /** The API's base URL, relative to the page or absolute: only a request to its origin, at or
   * under its path, carries the token and has its 401 reported. "" or absent: the page's origin. */
  apiBase?: string;
  /** Called on every 401 of the API, before the Response is returned; what it throws is reported
   * as an uncaught error, never thrown to the caller. */
  onSignInRequired?: () => void;
  /** default: the global fetch at the time of each call */
  fetch?: typeof fetch;
}

export function createAuthorizedFetch({ idToken, apiBase = "", onSignInRequired, fetch: send }: AuthorizedFetchOptions): typeof fetch {
  return async function authorizedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const fetchNow = send ?? fetch;
    const url = urlOf(input);
    if (!url || !isUnder(url, apiBase)) return fetchNow(input, init);
    const token = await tokenOrNone(idToken);
    const response = await (token ? fetchNow(signed(input, url, init, token)) : fetchNow(input, init));
    if (response.status === 401 && onSignInRequired) tell(onSignInRequired);
    return response;
  };
}

/** Where the page resolves a relative URL: its base URL (a worker: its location); none in Node. */
function pageUrl(): string | undefined {
  return globalThis.document?.baseURI ?? globalThis.location?.href;
}

function parsed(url: string, base?: string): URL | null {
  try {
    return new URL(url, base);
  } catch {
    return null;
  }
}

function urlOf(input: RequestInfo | URL): URL | null {
  return parsed(input instanceof Request ? input.url : String(input), pageUrl());
}

/** Same origin as the API base, and its path or below it: a whole path segment, so that
 * https://api.example.com/dev is neither https://api.example.com.evil.com/dev nor …/devil. */
function isUnder(url: URL, apiBase: string): boolean {
  const page = pageUrl();
  const base = apiBase ? parsed(apiBase, page) : page ? parsed(page) : null;
  if (!base || base.origin === "null" || url.origin !== base.origin) return false; // "null": opaque
  if (!apiBase) return true;
  const path = base.pathname.replace(/\/+$/, "");
  return url.pathname === path || url.pathname.startsWith(`${path}/`);
}

// The request fetch would build from input and init (a Request as init, an init with getters, a
// streamed body with duplex: every field kept), with the token among its headers. (A copy of it
// made with new headers would lose its referrer and referrer policy.)
function signed(input: RequestInfo | URL, url: URL, init: RequestInit | undefined, token: string): Request {
  const request = new Request(input instanceof Request ? input : url, init);
  request.headers.set("Authorization", token);
  return request;
}

// Without a usable token the request still goes out, unsigned: the API answers it (401 on a route
// that needs a learner) and the app sees what fetch would show it.
async function tokenOrNone(idToken: IdTokenSource): Promise<string | null> {
  try {
    return await idToken();
  } catch (error) {
    if (error instanceof SignInRequired) return null;
    throw error;
  }
}
