// When the ID token is refreshed: a pure rule over what Amplify's session holds, so that it can be
// tested without a browser. Amplify refreshes an expired token itself; asking for a fresh one
// shortly before expiry keeps a request from reaching the gateway with a token that expires on
// the way.
export const REFRESH_MARGIN_SECONDS = 60;

export interface IdTokenLike {
  payload: { exp?: number };
  toString(): string;
}

export interface SessionLike {
  tokens?: { idToken?: IdTokenLike };
}

export type FetchSession = (options?: { forceRefresh?: boolean }) => Promise<SessionLike>;

/** The ID token to send, refreshed when it expires within the margin; null when signed out. */
export async function currentIdToken(fetchSession: FetchSession, nowSeconds: () => number): Promise<string | null> {
  let token = (await fetchSession()).tokens?.idToken;
  if (token && (token.payload.exp ?? 0) - nowSeconds() < REFRESH_MARGIN_SECONDS) {
    token = (await fetchSession({ forceRefresh: true })).tokens?.idToken;
  }
  if (!token || (token.payload.exp ?? 0) <= nowSeconds()) return null;
  return token.toString();
}
