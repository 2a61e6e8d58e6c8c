import assert from 'node:assert/strict';
import { test } from 'node:test';

import { sortedReviews } from '../reviews.mjs';
import { trainingItems } from '../training.mjs';

const review = (word_id, reviewed_at, correct) => ({ word_id, reviewed_at, correct });
const GOOD = 3;
const AGAIN = 1;
const items = (reviews) => trainingItems(sortedReviews(reviews))
  .map((item) => item.map(({ rating, deltaDays }) => [rating, deltaDays]));

test('one item per review a whole day after the previous, holding the history, sorted by its last review', () => {
  const history = [
    review('b', '2024-01-04T12:00:00Z', true), // 24 h after b's previous: delta 1
    review('a', '2024-01-05T09:10:00Z', true), // 2 days after a's previous
    review('a', '2024-01-01T10:00:00Z', true),
    review('b', '2024-01-02T12:00:00Z', false),
    review('a', '2024-01-01T10:01:00Z', true),
    review('a', '2024-01-03T09:00:00Z', false), // 1 day 22 h 49 min after 10:11: delta 1
    review('b', '2024-01-02T23:59:59Z', true),
    review('a', '2024-01-01T10:11:00Z', true),
    review('b', '2024-01-03T12:00:00Z', true), // 24 h after b's first, 12 h after its previous: delta 0
    review('a', '2024-01-03T09:10:00Z', true),
  ];
  assert.deepEqual(items(history), [
    [[GOOD, 0], [GOOD, 0], [GOOD, 0], [AGAIN, 1]],
    [[AGAIN, 0], [GOOD, 0], [GOOD, 0], [GOOD, 1]],
    [[GOOD, 0], [GOOD, 0], [GOOD, 0], [AGAIN, 1], [GOOD, 0], [GOOD, 2]],
  ]);
});

test('reviews at the same second keep the order given', () => {
  const history = [
    review(7, '2024-02-01T08:00:00Z', false),
    review(7, '2024-02-01T08:00:00Z', true),
    review(7, '2024-02-04T07:59:59Z', true),
  ];
  assert.deepEqual(items(history), [[[AGAIN, 0], [GOOD, 0], [GOOD, 2]]]);
  assert.deepEqual(items([history[1], history[0], history[2]]), [[[GOOD, 0], [AGAIN, 0], [GOOD, 2]]]);
});

test('a word reviewed only within one day makes no item', () => {
  assert.deepEqual(items([review(1, '2024-01-01T00:00:00Z', true), review(1, '2024-01-01T23:59:59Z', true)]), []);
});
