// <SignInGate config={…}>{app}</SignInGate>: the app only for a signed-in learner. It reads the
// stage's settings when it mounts, shows a sign-in form until a learner is signed in and again
// when a call answers 401, and a sign-out button above the app.
import { useEffect, useState, type FormEvent, type ReactNode } from "react";

import {
  SESSION_ENDED, SignInFailed, configure, currentLearner, onSignInRequired, readConfig, signIn, signOut,
  type ConfigSource, type Learner,
} from "./index.js";

export interface SignInGateProps {
  /** The stage's settings: a config.json's URL (read at run time), `import.meta.env`, or the settings. */
  config: ConfigSource;
  children?: ReactNode;
  /** Shown while the settings and the stored session are read (default: nothing). */
  fallback?: ReactNode;
}

type GateState =
  | { step: "loading" }
  | { step: "failed"; message: string }
  | { step: "open" } // a stage without sign-in
  | { step: "signed-out"; message: string }
  | { step: "signed-in"; learner: Learner; message: string };

export function SignInGate({ config, children, fallback = null }: SignInGateProps) {
  const [state, setState] = useState<GateState>({ step: "loading" });
  const source = typeof config === "string" ? config : JSON.stringify(config);

  useEffect(() => {
    let mounted = true;
    const settle = (next: GateState) => void (mounted && setState(next));
    (async () => {
      const settings = await readConfig(config);
      configure(settings);
      if (!settings.signIn) return settle({ step: "open" });
      const learner = await currentLearner();
      settle(learner ? { step: "signed-in", learner, message: "" } : { step: "signed-out", message: "" });
    })().catch((error: unknown) => settle({
      step: "failed", message: `The sign-in settings could not be read: ${error instanceof Error ? error.message : error}`,
    }));
    return () => void (mounted = false);
  }, [source]); // the settings' value: an object made anew at each render reads them once

  useEffect(() => onSignInRequired(() => setState((now) =>
    now.step === "signed-in" ? { step: "signed-out", message: SESSION_ENDED } : now)), []);

  async function leave(learner: Learner): Promise<void> {
    try {
      await signOut();
      setState({ step: "signed-out", message: "Signed out." });
    } catch {
      setState({ step: "signed-in", learner, message: "Sign-out failed: please try again." });
    }
  }

  switch (state.step) {
    case "loading":
      return <>{fallback}</>;
    case "failed":
      return <p className="sign-in-gate-error" role="alert">{state.message}</p>;
    case "open":
      return <>{children}</>;
    case "signed-out":
      return <SignInForm message={state.message}
                         onSignedIn={(learner) => setState({ step: "signed-in", learner, message: "" })} />;
    case "signed-in":
      return (
        <>
          <div className="sign-in-gate-bar">
            Signed in as <strong>{state.learner.username}</strong>{" "}
            <button type="button" onClick={() => leave(state.learner)}>Sign out</button>
            {state.message && <span role="alert"> {state.message}</span>}
          </div>
          {children}
        </>
      );
  }
}

function SignInForm({ message, onSignedIn }: { message: string; onSignedIn: (learner: Learner) => void }) {
  const [error, setError] = useState(message);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    const fields = new FormData(event.currentTarget);
    setBusy(true);
    setError("");
    try {
      onSignedIn(await signIn(String(fields.get("username")), String(fields.get("password"))));
    } catch (failure) {
      setError(failure instanceof SignInFailed ? failure.message : "Sign-in failed: please try again.");
      setBusy(false);
    }
  }

  return (
    <form className="sign-in-gate" onSubmit={submit}>
      <h2>Sign in</h2>
      <p><label>Username or e-mail <input name="username" autoComplete="username" required /></label></p>
      <p><label>Password <input name="password" type="password" autoComplete="current-password" required /></label></p>
      <p><button type="submit" disabled={busy}>Sign in</button></p>
      <p className="sign-in-gate-error" role="alert">{error}</p>
    </form>
  );
}
