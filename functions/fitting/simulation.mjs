// A simulated learner, for the tests: words reviewed when the default scheduler says they are
// due, each answer correct with the probability the learner's TRUE parameters give.
import { createScheduler, DEFAULT_PARAMETERS, NEW_CARD, Rating } from './memory.mjs';
import { ratingOf } from './training.mjs';

const DAY = 86400;

// mulberry32: a small seeded generator of floats in [0, 1).
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const timestampOf = (seconds) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

export function simulateLearner({
  trueParameters, seed, words = 300, newWordsPerDay = 10, days = 365,
  knownBefore = 0.5, start = Date.UTC(2024, 0, 1) / 1000,
}) {
  const random = seededRandom(seed);
  const truth = createScheduler(trueParameters);
  const planner = createScheduler(DEFAULT_PARAMETERS);
  const end = start + days * DAY;
  const reviews = [];
  for (let word = 0; word < words; word += 1) {
    let at = start + Math.floor(word / newWordsPerDay) * DAY + 8 * 3600 + Math.floor(random() * 12 * 3600);
    let memory = NEW_CARD;
    let planned = NEW_CARD;
    while (at < end) {
      const recall = memory.lastReview === null ? knownBefore : truth.retrievability(memory, at);
      const correct = random() < recall;
      reviews.push({ word_id: word, reviewed_at: timestampOf(at), correct });
      memory = truth.reviewCard(memory, ratingOf(correct), at);
      planned = planner.reviewCard(planned, correct ? Rating.Good : Rating.Again, at);
      const late = planned.due - at < DAY ? Math.floor(random() * 300) : Math.floor(random() * DAY);
      at = planned.due + late;
    }
  }
  return reviews.sort((a, b) => a.reviewed_at.localeCompare(b.reviewed_at));
}
