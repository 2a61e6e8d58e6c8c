// The optimiser: fsrs-rs through @open-spaced-repetition/binding. It works in 32-bit floats and
// clamps to bounds of its own; the vector it returns is given back as the shortest decimals that
// are the same 32-bit floats, clamped to the bounds of Python fsrs's Scheduler.
import { computeParameters, FSRSBindingItem, FSRSBindingReview } from '@open-spaced-repetition/binding';

import { LOWER_BOUNDS, UPPER_BOUNDS } from './memory.mjs';

function shortestFloat32(value) {
  for (let digits = 1; digits < 10; digits += 1) {
    const decimal = Number(value.toPrecision(digits));
    if (Math.fround(decimal) === Math.fround(value)) return decimal;
  }
  return value;
}

export async function fittedParameters(items) {
  const bindingItems = items.map((reviews) => new FSRSBindingItem(
    reviews.map(({ rating, deltaDays }) => new FSRSBindingReview(rating, deltaDays)),
  ));
  const fitted = await computeParameters(bindingItems, { enableShortTerm: true });
  return fitted.map((value, index) => Math.min(Math.max(shortestFloat32(value), LOWER_BOUNDS[index]), UPPER_BOUNDS[index]));
}
