// fitLearner: FSRS-6 parameters fitted to one learner's reviews, adopted only when they predict
// that learner's most recent reviews better than the parameters in use.
import { fittedParameters } from './engine.mjs';
import { DEFAULT_PARAMETERS } from './memory.mjs';
import { checkedCurrent, sortedReviews } from './reviews.mjs';
import { score } from './scoring.mjs';
import { trainingItems } from './training.mjs';

// Anki asks for 400 reviews before it optimises. Here the most recent 20 % are held out, and about
// two reviews in three of a new word are its same-day learning steps, which make no item of their
// own: 1,000 reviews leave 800 to fit (several hundred items) and 200 to judge the fit by.
export const MIN_REVIEWS = 1000;
export const EVALUATION_SHARE = 0.2;

export function adoption(candidate, current) {
  if (candidate.reviews === 0) return { adopted: false, reason: 'no_scored_reviews' };
  if (!(candidate.logLoss < current.logLoss)) return { adopted: false, reason: 'log_loss_not_lower' };
  if (candidate.rmseBins > current.rmseBins) return { adopted: false, reason: 'rmse_bins_higher' };
  return { adopted: true, reason: 'better_on_recent_reviews' };
}

export async function fitLearner(reviews, current) {
  const currentParameters = checkedCurrent(current);
  const sorted = sortedReviews(reviews);
  if (sorted.length < MIN_REVIEWS) {
    return { adopted: false, reason: 'too_few_reviews', needed: MIN_REVIEWS, reviews_used: sorted.length };
  }
  const trainingCount = sorted.length - Math.ceil(sorted.length * EVALUATION_SHARE);
  const items = trainingItems(sorted.slice(0, trainingCount));
  const candidate = await fittedParameters(items);

  const isEvaluated = (position) => position >= trainingCount;
  const ofCandidate = score(sorted, candidate, isEvaluated);
  const ofCurrent = score(sorted, currentParameters, isEvaluated);
  const ofDefaults = score(sorted, DEFAULT_PARAMETERS, isEvaluated);
  return {
    candidate,
    ...adoption(ofCandidate, ofCurrent),
    evaluation: {
      reviews: ofCandidate.reviews,
      held_out_reviews: sorted.length - trainingCount,
      log_loss: ofCandidate.logLoss,
      rmse_bins: ofCandidate.rmseBins,
      current_log_loss: ofCurrent.logLoss,
      current_rmse_bins: ofCurrent.rmseBins,
      default_log_loss: ofDefaults.logLoss,
      default_rmse_bins: ofDefaults.rmseBins,
      predicted_recall: ofCandidate.predicted,
      current_predicted_recall: ofCurrent.predicted,
      recalled: ofCandidate.recalled,
    },
    reviews_used: sorted.length,
    training_items: items.length,
  };
}
