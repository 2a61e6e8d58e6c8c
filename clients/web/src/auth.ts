// The one module that owns the learner's tokens (Amplify Auth v6 keeps them in localStorage):
// sign in, sign out, who is signed in, and the ID token every API call sends.
import { Amplify } from "aws-amplify";
import {
  fetchAuthSession, getCurrentUser, signIn as amplifySignIn, signOut as amplifySignOut, type SignInOutput,
} from "aws-amplify/auth";

import { SignInRequired } from "./authorized-fetch.js";
import { currentIdToken } from "./tokens.js";

/** A stage's user pool: what `make frontend-config` prints (VITE_* variables), or config.json's signIn. */
export interface SignInSettings {
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  userPoolEndpoint?: string; // the local Cognito of AUTH=cognito make run; unset for AWS
}

export interface Learner {
  id: string;
  username: string;
}

/** Sign-in refused; the message is meant for the learner. */
export class SignInFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignInFailed";
  }
}

export function configureSignIn(settings: SignInSettings): void {
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: settings.userPoolId,
        userPoolClientId: settings.userPoolClientId,
        ...(settings.userPoolEndpoint ? { userPoolEndpoint: settings.userPoolEndpoint } : {}),
        loginWith: { username: true, email: true },
      },
    },
  });
}

// USER_PASSWORD_AUTH, here and deployed: the local Cognito (moto) does not check an SRP proof,
// so only this flow refuses a wrong password locally as Cognito does (README, Deploy the portal).
const AUTH_FLOW = "USER_PASSWORD_AUTH" as const;

export async function signIn(username: string, password: string): Promise<Learner> {
  const result = await passwordSignIn(username, password);
  if (!result.isSignedIn) {
    throw new SignInFailed(`Sign-in needs a step this sign-in form does not offer: ${result.nextStep.signInStep}.`);
  }
  const learner = await currentLearner();
  if (!learner) throw new SignInFailed("Signed in, but no session was kept; try again.");
  return learner;
}

async function passwordSignIn(username: string, password: string, endStaleSession = true): Promise<SignInOutput> {
  try {
    return await amplifySignIn({ username, password, options: { authFlowType: AUTH_FLOW } });
  } catch (error) {
    if (!(endStaleSession && isAlreadySignedIn(error))) throw new SignInFailed(readable(error));
  }
  // Amplify still holds a session that the API refused (a 401 asked for this sign-in): end it, once.
  await amplifySignOut();
  return passwordSignIn(username, password, false);
}

export async function signOut(): Promise<void> {
  await amplifySignOut();
}

export async function currentLearner(): Promise<Learner | null> {
  try {
    const user = await getCurrentUser();
    return { id: user.userId, username: user.username };
  } catch {
    return null;
  }
}

/** The ID token for apiFetch; SignInRequired when there is none or it cannot be refreshed. */
export async function idToken(): Promise<string> {
  let token: string | null;
  try {
    token = await currentIdToken(fetchAuthSession, () => Date.now() / 1000);
  } catch {
    token = null; // the refresh failed: the refresh token expired or was revoked
  }
  if (!token) throw new SignInRequired("Your session has ended: please sign in again.");
  return token;
}

function isAlreadySignedIn(error: unknown): boolean {
  return error instanceof Error && error.name === "UserAlreadyAuthenticatedException";
}

function readable(error: unknown): string {
  const name = error instanceof Error ? error.name : "";
  if (name === "NotAuthorizedException" || name === "UserNotFoundException") return "Wrong username or password.";
  if (name === "PasswordResetRequiredException") return "Your password must be reset before you sign in.";
  if (error instanceof TypeError) return "Sign-in service unreachable: check your connection and try again.";
  return "Sign-in failed: please try again.";
}
