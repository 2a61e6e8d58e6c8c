import assert from "node:assert/strict";
import { test } from "node:test";

import { REFRESH_MARGIN_SECONDS, currentIdToken, type SessionLike } from "../src/tokens";

const NOW = 1_800_000_000;

function token(exp: number, value: string) {
  return { payload: { exp }, toString: () => value };
}

function sessions(first: SessionLike, refreshed: SessionLike = {}) {
  const asked: Array<boolean> = [];
  const fetchSession = async (options?: { forceRefresh?: boolean }) => {
    asked.push(Boolean(options?.forceRefresh));
    return options?.forceRefresh ? refreshed : first;
  };
  return { fetchSession, asked };
}

test("a token well before its expiry is sent as it is", async () => {
  const { fetchSession, asked } = sessions({ tokens: { idToken: token(NOW + 3600, "fresh") } });

  assert.equal(await currentIdToken(fetchSession, () => NOW), "fresh");
  assert.deepEqual(asked, [false]);
});

test("a token about to expire is refreshed first", async () => {
  const { fetchSession, asked } = sessions({ tokens: { idToken: token(NOW + REFRESH_MARGIN_SECONDS - 1, "old") } },
                                           { tokens: { idToken: token(NOW + 3600, "new") } });

  assert.equal(await currentIdToken(fetchSession, () => NOW), "new");
  assert.deepEqual(asked, [false, true]);
});

test("signed out, or a refresh that brings nothing usable, is no token", async () => {
  assert.equal(await currentIdToken(sessions({}).fetchSession, () => NOW), null);
  const stale = sessions({ tokens: { idToken: token(NOW - 5, "old") } }, { tokens: { idToken: token(NOW - 5, "old") } });
  assert.equal(await currentIdToken(stale.fetchSession, () => NOW), null);
});
