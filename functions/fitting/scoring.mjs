// How well a parameter vector predicts reviews: the retrievability just before each scored
// review (one at least 24 h after the word's previous review), from the word's whole history
// replayed with those parameters, against whether the answer was correct.
import { createScheduler, NEW_CARD, wholeDaysBetween } from './memory.mjs';
import { ratingOf } from './training.mjs';

const BINS = 20;
const CLIP = 1e-15; // keeps log loss finite for a prediction of exactly 0 or 1

export function predictions(sortedReviews, parameters, isScored) {
  const scheduler = createScheduler(parameters);
  const cards = new Map();
  const scored = [];
  sortedReviews.forEach((review, position) => {
    const card = cards.get(review.wordId) ?? NEW_CARD;
    if (isScored(position) && card.lastReview !== null && wholeDaysBetween(card.lastReview, review.at) >= 1) {
      scored.push({ predicted: scheduler.retrievability(card, review.at), recalled: review.correct ? 1 : 0 });
    }
    cards.set(review.wordId, scheduler.reviewCard(card, ratingOf(review.correct), review.at));
  });
  return scored;
}

export function logLoss(scored) {
  const total = scored.reduce((sum, { predicted, recalled }) => {
    const p = Math.min(Math.max(predicted, CLIP), 1 - CLIP);
    return sum - (recalled ? Math.log(p) : Math.log(1 - p));
  }, 0);
  return total / scored.length;
}

// sqrt(Σ n_b (mean predicted_b − mean recalled_b)² / N) over 20 equal-width bins of the prediction.
export function rmseBins(scored) {
  const bins = Array.from({ length: BINS }, () => ({ count: 0, predicted: 0, recalled: 0 }));
  for (const { predicted, recalled } of scored) {
    const bin = bins[Math.min(Math.floor(predicted * BINS), BINS - 1)];
    bin.count += 1;
    bin.predicted += predicted;
    bin.recalled += recalled;
  }
  const squares = bins.filter((bin) => bin.count > 0)
    .reduce((sum, { count, predicted, recalled }) => sum + count * ((predicted - recalled) / count) ** 2, 0);
  return Math.sqrt(squares / scored.length);
}

// The mean predicted recall and the share recalled: what a learner reads ("predicted 87 % recall,
// remembered 85 %"); null without a scored review.
export function means(scored) {
  if (scored.length === 0) return { predicted: null, recalled: null };
  const sum = (pick) => scored.reduce((total, one) => total + pick(one), 0);
  return { predicted: sum((one) => one.predicted) / scored.length, recalled: sum((one) => one.recalled) / scored.length };
}

export function score(sortedReviews, parameters, isScored) {
  const scored = predictions(sortedReviews, parameters, isScored);
  const { predicted, recalled } = means(scored);
  return { reviews: scored.length, logLoss: logLoss(scored), rmseBins: rmseBins(scored), predicted, recalled };
}
