import assert from "node:assert/strict";
import { test } from "node:test";

import type { DueWord } from "../src/api";
import { STORAGE_PREFIX, answered, answering, newStudy, randomKey, studyStore } from "../src/study-state";

class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null { return this.items.get(key) ?? null; }
  setItem(key: string, value: string): void { this.items.set(key, value); }
  removeItem(key: string): void { this.items.delete(key); }
}

const word = (id: number): DueWord =>
  ({ id, kanji: "食べる", romaji: "taberu", english: "to eat", state: "new", due: null, retrievability: null });

test("a learner's study state is kept under their own key and read back as it was saved", () => {
  const storage = new MemoryStorage();
  const ana = studyStore(storage, "ana-sub");
  const state = answering(newStudy("s1", 1), word(7), true, () => "key-1");

  ana.save(state);

  assert.deepEqual(ana.load(), state);
  assert.deepEqual([...storage.items.keys()], [`${STORAGE_PREFIX}ana-sub`]);
  assert.equal(studyStore(storage, "ben-sub").load(), null);  // never another learner's
  ana.clear();
  assert.equal(ana.load(), null);
});

test("what is not a study state (edited, truncated, another shape) is forgotten, not resumed", () => {
  for (const text of ["{", "null", '{"sessionId": 1}', JSON.stringify({ ...newStudy("s1", 1), pending: { key: 3 } })]) {
    const storage = new MemoryStorage();
    storage.setItem(`${STORAGE_PREFIX}ana`, text);

    assert.equal(studyStore(storage, "ana").load(), null, text);
    assert.equal(storage.items.size, 0, text);
  }
});

test("an answer is pending with a new key; the same answer again keeps its key, another gets a new one", () => {
  const keys = ["k1", "k2", "k3"];
  const next = () => keys.shift()!;
  const first = answering(newStudy("s1", 1), word(7), true, next);

  const again = answering(first, word(7), true, next);
  const changed = answering(first, word(7), false, next);
  const otherWord = answering(first, word(8), true, next);

  assert.deepEqual(first.pending, { word: word(7), correct: true, key: "k1" });
  assert.equal(again.pending?.key, "k1");
  assert.equal(changed.pending?.key, "k2");
  assert.equal(otherWord.pending?.key, "k3");
});

test("once stored, the pending answer is counted once and forgotten", () => {
  const knew = answered(answering(newStudy("s1", 1), word(7), true, () => "k1"));
  const missed = answered(answering(knew, word(8), false, () => "k2"));

  assert.deepEqual(knew, { sessionId: "s1", groupId: 1, knew: 1, missed: 0, pending: null });
  assert.deepEqual(missed, { sessionId: "s1", groupId: 1, knew: 1, missed: 1, pending: null });
  assert.deepEqual(answered(missed), missed);  // nothing pending: nothing counted
});

test("randomKey is a version-4 UUID, a valid Idempotency-Key, different each time", () => {
  const keys = new Set(Array.from({ length: 100 }, randomKey));

  assert.equal(keys.size, 100);
  for (const key of keys) assert.match(key, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
