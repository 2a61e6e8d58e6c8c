// A learner's reviews as given ({word_id, reviewed_at, correct}), checked, in the order replayed:
// reviewed_at, then the order given. `at` is whole seconds since the epoch.
import { checkedParameters } from './memory.mjs';

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

export class InputError extends Error {
  name = 'InputError';
}

export function secondsOf(timestamp) {
  const parts = typeof timestamp === 'string' && TIMESTAMP.exec(timestamp);
  if (!parts) throw new InputError(`reviewed_at must be "YYYY-MM-DDTHH:MM:SSZ", got ${JSON.stringify(timestamp)}`);
  const [year, month, day, hour, minute, second] = parts.slice(1).map(Number);
  const milliseconds = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(milliseconds).toISOString() !== `${timestamp.slice(0, -1)}.000Z`) {
    throw new InputError(`reviewed_at is not a real moment: ${timestamp}`);
  }
  return milliseconds / 1000;
}

function checkedReview(review, index) {
  if (review === null || typeof review !== 'object') throw new InputError(`reviews[${index}] must be an object`);
  const { word_id: wordId, reviewed_at: reviewedAt, correct } = review;
  if (!(Number.isSafeInteger(wordId) || (typeof wordId === 'string' && wordId !== ''))) {
    throw new InputError(`reviews[${index}].word_id must be an integer or a non-empty string`);
  }
  if (typeof correct !== 'boolean') throw new InputError(`reviews[${index}].correct must be true or false`);
  return { wordId, at: secondsOf(reviewedAt), correct, index };
}

export function sortedReviews(reviews) {
  if (!Array.isArray(reviews)) throw new InputError('reviews must be an array');
  return reviews.map(checkedReview).sort((a, b) => a.at - b.at || a.index - b.index);
}

export function checkedCurrent(current) {
  if (current === null || typeof current !== 'object') throw new InputError('current must be an object');
  try {
    return checkedParameters(current.parameters);
  } catch (error) {
    throw new InputError(`current.parameters: ${error.message}`);
  }
}
