import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { createScheduler, NEW_CARD, Rating } from '../memory.mjs';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/python-fsrs-replays.json', import.meta.url)));
// Retrievability absolutely; stability (unbounded above) and difficulty relative to their size.
const TOLERANCE = 1e-9;

function largestDifferences() {
  const largest = { retrievability: 0, stability: 0, difficulty: 0 };
  let compared = 0;
  for (const { parameters, words } of fixture.cases) {
    const scheduler = createScheduler(parameters);
    for (const { reviews } of words) {
      let card = NEW_CARD;
      for (const expected of reviews) {
        const before = scheduler.retrievability(card, expected.at);
        card = scheduler.reviewCard(card, expected.correct ? Rating.Good : Rating.Again, expected.at);
        assert.deepEqual([card.state, card.step, card.due], [expected.state, expected.step, expected.due]);
        for (const [name, value] of [['retrievability', before], ['stability', card.stability], ['difficulty', card.difficulty]]) {
          const scale = name === 'retrievability' ? 1 : Math.max(1, Math.abs(expected[name]));
          largest[name] = Math.max(largest[name], Math.abs(value - expected[name]) / scale);
        }
        compared += 1;
      }
    }
  }
  return { largest, compared };
}

test('replays equal Python fsrs 6.3.2 on random histories and parameters', (t) => {
  assert.equal(fixture.fsrs_version, '6.3.2');
  const { largest, compared } = largestDifferences();
  assert.ok(compared > 1000, `${compared} reviews compared`);
  for (const [name, difference] of Object.entries(largest)) {
    assert.ok(difference <= TOLERANCE, `${name} differs by ${difference}`);
  }
  t.diagnostic(`${compared} reviews; largest differences ${JSON.stringify(largest)}`);
});

test('parameters out of the Python bounds are refused', () => {
  assert.throws(() => createScheduler([...fixture.cases[0].parameters.slice(0, 20), 0.81]), RangeError);
  assert.throws(() => createScheduler([1, 2, 3]), RangeError);
});
