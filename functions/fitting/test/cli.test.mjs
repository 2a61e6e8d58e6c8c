import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { DEFAULT_PARAMETERS } from '../memory.mjs';

const CLI = fileURLToPath(new URL('../cli.mjs', import.meta.url));
const run = (input) => spawnSync(process.execPath, [CLI], { input, encoding: 'utf8' });

test('writes the result as JSON', () => {
  const input = JSON.stringify({
    reviews: [{ word_id: 3, reviewed_at: '2024-05-01T09:00:00Z', correct: true }],
    current: { parameters: DEFAULT_PARAMETERS },
  });
  const { status, stdout } = run(input);
  assert.equal(status, 0);
  assert.equal(JSON.parse(stdout).reason, 'too_few_reviews');
});

test('bad input: exit 2 and one line of JSON', () => {
  const bad = [
    'not json',
    'null',
    JSON.stringify({ reviews: [], current: { parameters: [1] } }),
    JSON.stringify({ reviews: [{ word_id: 1, reviewed_at: '2024-05-01 09:00:00', correct: true }], current: { parameters: DEFAULT_PARAMETERS } }),
  ];
  for (const input of bad) {
    const { status, stdout } = run(input);
    assert.equal(status, 2, input);
    assert.equal(stdout.trimEnd().split('\n').length, 1);
    assert.equal(JSON.parse(stdout).kind, 'InputError');
  }
});
