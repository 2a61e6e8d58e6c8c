// The training set as fsrs-rs expects it: one item per review that comes at least a whole day
// after the word's previous one, holding the word's history up to and including it, as
// (rating, whole days since the previous review); items in the order of their last review.
import { Rating, wholeDaysBetween } from './memory.mjs';

export const ratingOf = (correct) => (correct ? Rating.Good : Rating.Again);

export function trainingItems(sortedReviews) {
  const histories = new Map();
  const items = [];
  for (const { wordId, at, correct } of sortedReviews) {
    const history = histories.get(wordId) ?? { lastAt: null, reviews: [] };
    const deltaDays = history.lastAt === null ? 0 : wholeDaysBetween(history.lastAt, at);
    history.reviews.push({ rating: ratingOf(correct), deltaDays });
    history.lastAt = at;
    histories.set(wordId, history);
    if (deltaDays >= 1) items.push([...history.reviews]);
  }
  return items;
}
