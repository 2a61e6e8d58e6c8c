// The one module that owns the learner's tokens (Amplify Auth v6 keeps them in localStorage):
// sign in, sign out, who is signed in, and the ID token every API call sends.
import { Amplify } from "aws-amplify";
import { fetchAuthSession, getCurrentUser, signIn as amplifySignIn, signOut as amplifySignOut } from "aws-amplify/auth";

import { SignInRequired } from "./api";
import { currentIdToken } from "./tokens";

/** What `make frontend-config` prints for a stage (VITE_* variables), or /app/config.json holds. */
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
  let result;
  try {
    result = await amplifySignIn({ username, password, options: { authFlowType: AUTH_FLOW } });
  } catch (error) {
    throw new SignInFailed(readable(error));
  }
  if (!result.isSignedIn) {
    throw new SignInFailed(`Sign-in needs a step this page does not offer: ${result.nextStep.signInStep}.`);
  }
  const learner = await currentLearner();
  if (!learner) throw new SignInFailed("Signed in, but no session was kept; try again.");
  return learner;
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

function readable(error: unknown): string {
  const name = error instanceof Error ? error.name : "";
  if (name === "NotAuthorizedException" || name === "UserNotFoundException") return "Wrong username or password.";
  if (name === "UserAlreadyAuthenticatedException") return "You are already signed in.";
  if (name === "PasswordResetRequiredException") return "Your password must be reset before you sign in.";
  if (error instanceof TypeError) return "Sign-in service unreachable: check your connection and try again.";
  return "Sign-in failed: please try again.";
}
