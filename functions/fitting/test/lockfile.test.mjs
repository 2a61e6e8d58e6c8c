import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

// npm ci refuses a lock without an entry for each optional dependency a package declares, even
// one never published (the binding's platform builds other than linux-x64-gnu at 0.5.0).
test('the lock has an entry for every platform build the binding declares', () => {
  const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url)));
  const binding = lock.packages['node_modules/@open-spaced-repetition/binding'];
  const paths = Object.keys(lock.packages);
  for (const name of Object.keys(binding.optionalDependencies)) {
    assert.ok(paths.some((path) => path.endsWith(`node_modules/${name}`)), `${name} is missing from package-lock.json`);
  }
});
