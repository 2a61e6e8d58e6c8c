#!/usr/bin/env node
// stdin: {"reviews": [{word_id, reviewed_at, correct}], "current": {"parameters": [21 numbers]}}
// stdout: fitLearner's result as JSON; on bad input, exit 2 and one line of JSON {"error", "kind"}
// there instead, so a caller always reads JSON from stdout.
import { text } from 'node:stream/consumers';

import { fitLearner } from './fit.mjs';
import { InputError } from './reviews.mjs';

const BAD_INPUT = 2;

async function main() {
  let request;
  try {
    request = JSON.parse(await text(process.stdin));
  } catch (error) {
    throw new InputError(`stdin is not JSON: ${error.message}`);
  }
  if (request === null || typeof request !== 'object') throw new InputError('stdin must hold an object');
  const result = await fitLearner(request.reviews, request.current);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  process.stdout.write(`${JSON.stringify({ error: error.message, kind: error.name })}\n`);
  process.exitCode = error instanceof InputError ? BAD_INPUT : 1;
});
