// fetch with the learner's ID token: the same signature and result as fetch, so a fetch-based app
// changes only the function's name at each call site. A 401 is reported to the app (to show its
// sign-in form) before the Response is handed back as fetch would hand it.

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
  /** Called on every 401, before the Response is returned. */
  onSignInRequired?: () => void;
  /** default: the global fetch at the time of each call */
  fetch?: typeof fetch;
}

export function createAuthorizedFetch({ idToken, onSignInRequired, fetch: send }: AuthorizedFetchOptions): typeof fetch {
  return async function authorizedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const token = await tokenOrNone(idToken);
    // fetch takes init's headers over a Request's own: the same merge here, plus the token.
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (token) headers.set("Authorization", token);
    const response = await (send ?? fetch)(input, { ...init, headers });
    if (response.status === 401) onSignInRequired?.();
    return response;
  };
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
