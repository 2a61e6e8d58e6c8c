// The configured client of one page: the stage's settings, and authorizedFetch and apiFetch that
// use them. A 401 of the API to either is announced to whoever listens (the sign-in gate) before
// the caller sees it.
import { createApiFetch } from "./api.js";
import { configureSignIn, idToken } from "./auth.js";
import { createAuthorizedFetch } from "./authorized-fetch.js";
import type { ClientConfig } from "./config.js";
import { tell } from "./listener.js";

/** What a sign-in form says when a call needed sign-in. */
export const SESSION_ENDED = "Your session has ended: please sign in again.";

let current: ClientConfig | null = null;
const listeners = new Set<() => void>();

/** Sets the stage's API base and user pool; call once, before the first call (the gate does). */
export function configure(config: ClientConfig): void {
  if (config.signIn) configureSignIn(config.signIn);
  current = config;
}

/** The configured API base URL ("" until configure ran, or for the page's own origin). */
export function apiBase(): string {
  return current?.apiBase.replace(/\/+$/, "") ?? "";
}

/** Calls `listener` on every 401 that authorizedFetch or apiFetch receives from the API; returns its
 * removal. What a listener throws is reported as an uncaught error: the other listeners and the
 * call go on. */
export function onSignInRequired(listener: () => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

const options = {
  idToken: () => (current?.signIn ? idToken() : Promise.resolve(null)),
  onSignInRequired: () => listeners.forEach((listener) => tell(listener)),
};

/** fetch, with the learner's ID token (refreshed when due) on requests to the configured API base
 * (the page's origin when it is ""); the API's 401 is announced, then returned. Any other request
 * is fetch's own, untouched. */
export const authorizedFetch: typeof fetch = (input, init) =>
  createAuthorizedFetch({ ...options, apiBase: apiBase() })(input, init);

/** apiFetch(path, init) on the configured API base: the parsed body, or SignInRequired / ApiError. */
export function apiFetch<T>(path: string, init?: RequestInit): Promise<T> {
  return createApiFetch({ ...options, baseUrl: apiBase() })<T>(path, init);
}
