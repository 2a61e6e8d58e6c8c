/** Runs a test file as on a page at `href`: Node has no location to resolve relative URLs against. */
export function onPage(href: string): void {
  Object.defineProperty(globalThis, "location", { value: new URL(href), configurable: true });
}

/** Calls `run` with reportError (the browser's report of an uncaught error) recording what it gets. */
export async function reportingInto(reported: unknown[], run: () => Promise<void>): Promise<void> {
  const own = Object.getOwnPropertyDescriptor(globalThis, "reportError");
  Object.defineProperty(globalThis, "reportError", { value: (error: unknown) => reported.push(error), configurable: true });
  try {
    await run();
  } finally {
    if (own) Object.defineProperty(globalThis, "reportError", own);
    else delete (globalThis as { reportError?: unknown }).reportError;
  }
}
