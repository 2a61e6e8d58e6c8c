// What the /app page keeps of a learner's study session in the tab's sessionStorage, so that a
// reload neither loses nor doubles an answer: the session, the answers it recorded, and the
// answer being sent with its Idempotency-Key (stored before it is sent, forgotten once the API
// stored it; sent again after a reload with the same key, the API stores it once). No token:
// those are auth.ts's.
import type { DueWord } from "./api.js";

export interface PendingAnswer {
  word: DueWord;
  correct: boolean;
  key: string;
}

export interface StudyState {
  sessionId: string;
  groupId: number;
  knew: number;
  missed: number;
  pending: PendingAnswer | null;
}

export type KeyValueStore = Pick<Storage, "getItem" | "setItem" | "removeItem">;

export const STORAGE_PREFIX = "study-sessions.study.";

export interface StudyStore {
  load(): StudyState | null;
  save(state: StudyState): void;
  clear(): void;
}

/** The study state of one learner in `storage` (a learner never resumes another's session). */
export function studyStore(storage: KeyValueStore, learnerId: string): StudyStore {
  const key = STORAGE_PREFIX + learnerId;
  return {
    load() {
      const text = storage.getItem(key);
      if (text === null) return null;
      const state = parse(text);
      if (state === null) storage.removeItem(key);
      return state;
    },
    save: (state) => storage.setItem(key, JSON.stringify(state)),
    clear: () => storage.removeItem(key),
  };
}

export function newStudy(sessionId: string, groupId: number): StudyState {
  return { sessionId, groupId, knew: 0, missed: 0, pending: null };
}

/** The state with this answer pending. The same answer of the same word, still pending, keeps its
 * key: sent again, it is the same request. */
export function answering(state: StudyState, word: DueWord, correct: boolean, newKey: () => string): StudyState {
  const same = state.pending && state.pending.word.id === word.id && state.pending.correct === correct;
  return { ...state, pending: same ? state.pending : { word, correct, key: newKey() } };
}

/** The state once the API stored the pending answer: counted, and no longer pending. */
export function answered(state: StudyState): StudyState {
  if (!state.pending) return state;
  const { correct } = state.pending;
  return { ...state, knew: state.knew + (correct ? 1 : 0), missed: state.missed + (correct ? 0 : 1), pending: null };
}

/** A new Idempotency-Key: a random UUID (crypto.randomUUID needs a secure context; this does not). */
export function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function parse(text: string): StudyState | null {
  try {
    const state = JSON.parse(text) as StudyState;
    const pending = state.pending;
    const valid = typeof state.sessionId === "string" && Number.isInteger(state.groupId) &&
      Number.isInteger(state.knew) && Number.isInteger(state.missed) &&
      (pending === null || (typeof pending === "object" && typeof pending.key === "string" &&
        typeof pending.correct === "boolean" && Number.isInteger(pending.word?.id)));
    return valid ? state : null;
  } catch {
    return null;
  }
}
