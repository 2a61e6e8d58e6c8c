import assert from 'node:assert/strict';
import { test } from 'node:test';

import { adoption, fitLearner, MIN_REVIEWS } from '../fit.mjs';
import { DEFAULT_PARAMETERS } from '../memory.mjs';
import { InputError } from '../reviews.mjs';
import { simulateLearner, timestampOf } from '../simulation.mjs';

const DEFAULTS = { parameters: [...DEFAULT_PARAMETERS] };
// Forgets much more slowly than the defaults say: initial stabilities about 4 times theirs, and
// each successful recall multiplies stability more (w8).
const TRUE_PARAMETERS = DEFAULT_PARAMETERS.map((value, index) => ({ 0: 1.0, 1: 4.0, 2: 8.0, 3: 25.0, 8: 2.3 })[index] ?? value);
const learner = simulateLearner({ trueParameters: TRUE_PARAMETERS, seed: 2, words: 600, newWordsPerDay: 2, days: 365 });

const fits = new Map();
const fitAgainst = (parameters) => {
  const key = JSON.stringify(parameters);
  if (!fits.has(key)) fits.set(key, fitLearner(learner, { parameters }));
  return fits.get(key);
};

test('fewer reviews than the minimum: no fit', async () => {
  const reviews = Array.from({ length: MIN_REVIEWS - 1 }, (_, index) => ({
    word_id: index % 50, reviewed_at: timestampOf(1704067200 + index * 3 * 3600), correct: index % 4 !== 0,
  }));
  assert.deepEqual(await fitLearner(reviews, DEFAULTS),
    { adopted: false, reason: 'too_few_reviews', needed: MIN_REVIEWS, reviews_used: MIN_REVIEWS - 1 });
});

test('bad input is an InputError', async () => {
  await assert.rejects(fitLearner([{ word_id: 1, reviewed_at: '2024-02-30T00:00:00Z', correct: true }], DEFAULTS), InputError);
  await assert.rejects(fitLearner([{ word_id: 1, reviewed_at: '2024-02-01T00:00:00Z', correct: 1 }], DEFAULTS), InputError);
  await assert.rejects(fitLearner([], { parameters: DEFAULT_PARAMETERS.slice(1) }), InputError);
  await assert.rejects(fitLearner({}, DEFAULTS), InputError);
});

test('a learner who forgets more slowly than the defaults: the fit moves toward the truth and is adopted', async () => {
  assert.ok(learner.length >= 2000, `${learner.length} reviews`);
  const result = await fitAgainst(DEFAULTS.parameters);
  assert.equal(result.adopted, true, result.reason);
  assert.equal(result.reason, 'better_on_recent_reviews');
  for (let index = 0; index < 4; index += 1) {
    const fitted = Math.abs(result.candidate[index] - TRUE_PARAMETERS[index]);
    const defaults = Math.abs(DEFAULT_PARAMETERS[index] - TRUE_PARAMETERS[index]);
    assert.ok(fitted < defaults, `w${index}: fitted ${result.candidate[index]}, true ${TRUE_PARAMETERS[index]}`);
  }
  const { evaluation } = result;
  assert.ok(evaluation.log_loss < evaluation.current_log_loss && evaluation.rmse_bins <= evaluation.current_rmse_bins);
  assert.equal(evaluation.default_log_loss, evaluation.current_log_loss);
  assert.equal(evaluation.held_out_reviews, Math.ceil(learner.length * 0.2));
  assert.ok(evaluation.reviews > 0 && evaluation.reviews <= evaluation.held_out_reviews);
  for (const share of [evaluation.predicted_recall, evaluation.current_predicted_recall, evaluation.recalled]) {
    assert.ok(share > 0 && share < 1, `a share of the scored reviews: ${share}`);
  }
  assert.equal(result.reviews_used, learner.length);
  assert.ok(result.training_items > 0);
});

test('the true parameters in use: the fit on less data does not replace them', async () => {
  const result = await fitAgainst(TRUE_PARAMETERS);
  assert.equal(result.adopted, false);
  assert.ok(!(result.evaluation.log_loss < result.evaluation.current_log_loss
    && result.evaluation.rmse_bins <= result.evaluation.current_rmse_bins));
  assert.notEqual(result.evaluation.default_log_loss, result.evaluation.current_log_loss);
});

test('the fitted optimum in use: the same fit is not better, so not adopted', async () => {
  const { candidate } = await fitAgainst(DEFAULTS.parameters);
  const result = await fitAgainst(candidate);
  assert.deepEqual(result.candidate, candidate);
  assert.deepEqual([result.adopted, result.reason], [false, 'log_loss_not_lower']);
  assert.equal(result.evaluation.log_loss, result.evaluation.current_log_loss);
});

test('adopted only with a lower log loss and an RMSE(bins) not higher', () => {
  const current = { reviews: 100, logLoss: 0.3, rmseBins: 0.05 };
  const verdict = (logLoss, rmseBins) => adoption({ reviews: 100, logLoss, rmseBins }, current);
  assert.deepEqual(verdict(0.29, 0.05), { adopted: true, reason: 'better_on_recent_reviews' });
  assert.deepEqual(verdict(0.3, 0.01), { adopted: false, reason: 'log_loss_not_lower' });
  assert.deepEqual(verdict(0.29, 0.0501), { adopted: false, reason: 'rmse_bins_higher' });
  assert.deepEqual(adoption({ reviews: 0, logLoss: NaN, rmseBins: NaN }, current),
    { adopted: false, reason: 'no_scored_reviews' });
});
