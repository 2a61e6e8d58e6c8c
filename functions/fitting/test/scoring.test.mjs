import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createScheduler, DEFAULT_PARAMETERS, NEW_CARD, Rating } from '../memory.mjs';
import { sortedReviews } from '../reviews.mjs';
import { logLoss, predictions, rmseBins } from '../scoring.mjs';

const review = (word_id, reviewed_at, correct) => ({ word_id, reviewed_at, correct });

test('scores only reviews 24 h or more after the word\'s previous one, from its whole history', () => {
  const sorted = sortedReviews([
    review(1, '2024-01-01T10:00:00Z', true),
    review(1, '2024-01-01T10:10:00Z', true),
    review(1, '2024-01-04T10:09:59Z', false), // 2 days 23:59:59 after: scored
    review(1, '2024-01-04T10:20:00Z', true), // same day: not scored
    review(2, '2024-01-05T08:00:00Z', true), // the word's first review: not scored
    review(1, '2024-01-05T10:20:00Z', true), // exactly 24 h: scored
  ]);
  const scheduler = createScheduler(DEFAULT_PARAMETERS);
  let card = NEW_CARD;
  const expected = [];
  sorted.filter((one) => one.wordId === 1).forEach((one, position) => {
    if (position === 2 || position === 4) {
      expected.push({ predicted: scheduler.retrievability(card, one.at), recalled: one.correct ? 1 : 0 });
    }
    card = scheduler.reviewCard(card, one.correct ? Rating.Good : Rating.Again, one.at);
  });
  assert.deepEqual(predictions(sorted, DEFAULT_PARAMETERS, () => true), expected);
  assert.deepEqual(predictions(sorted, DEFAULT_PARAMETERS, (position) => position >= 4), expected.slice(1));
});

test('log loss and RMSE over 20 equal-width bins', () => {
  const scored = [
    { predicted: 0.9, recalled: 1 }, { predicted: 0.92, recalled: 0 }, // bin 18: mean 0.91 vs 0.5
    { predicted: 0.3, recalled: 1 }, // bin 6
    { predicted: 1, recalled: 1 }, // the last bin holds 1
  ];
  const expectedLoss = -(Math.log(0.9) + Math.log(0.08) + Math.log(0.3) + Math.log(1 - 1e-15)) / 4;
  assert.ok(Math.abs(logLoss(scored) - expectedLoss) < 1e-12);
  const expectedRmse = Math.sqrt((2 * (0.91 - 0.5) ** 2 + (0.3 - 1) ** 2 + 0) / 4);
  assert.ok(Math.abs(rmseBins(scored) - expectedRmse) < 1e-12);
  assert.ok(Number.isFinite(logLoss([{ predicted: 1, recalled: 0 }])));
});
