// The fitter deployed: a Lambda function (Node.js 22, x86_64: the binding's native build is
// linux-x64-gnu only) invoked synchronously by the Python fitting worker with the same JSON as
// cli.mjs reads: {"reviews": [...], "current": {"parameters": [21]}}; answers fitLearner's result,
// or {"error", "kind"} on bad input (the worker then fails the message: it goes to the DLQ).
import { fitLearner } from './fit.mjs';
import { InputError } from './reviews.mjs';

export async function handler(request) {
  try {
    if (request === null || typeof request !== 'object') throw new InputError('the event must be an object');
    return await fitLearner(request.reviews, request.current);
  } catch (error) {
    if (error instanceof InputError) return { error: error.message, kind: error.name };
    throw error;
  }
}
