// A listener's error is its own: reported as an uncaught error (as EventTarget reports a
// listener's: the console, window's "error" event) and never thrown into the call that told it.

/** Calls `listener`; what it throws is reported, not thrown. */
export function tell(listener: () => void): void {
  try {
    listener();
  } catch (error) {
    report(error);
  }
}

function report(error: unknown): void {
  if (typeof globalThis.reportError === "function") globalThis.reportError(error);
  else setTimeout(() => { throw error; }); // where reportError is missing (Node 20, older browsers)
}
