import assert from "node:assert/strict";
import { test } from "node:test";

import type { Scheduler } from "../src/api";
import { describeScheduler, formatRetention } from "../src/scheduler-view";

const defaults: Scheduler = {
  parameters: Array.from({ length: 21 }, () => 1), source: "default", desired_retention: 0.9, version: 0,
  fitted_at: null, reviews_used: null, evaluation: null, summary: null, next_fit_after: 1000,
};

test("the defaults: said so, with no figure, and that personal parameters come after enough reviews", () => {
  const view = describeScheduler(defaults);

  assert.equal(view.source, "Default parameters: FSRS-6's, the same for every learner.");
  assert.equal(view.summary, "The default parameters are in use. Parameters of your own are fitted once you " +
                             "have made enough reviews, if they predict your answers better.");
  assert.deepEqual(view.evaluation, []);
  assert.equal(view.scored, "");
  assert.equal(view.retention, "0.90");
  assert.doesNotMatch(`${view.source} ${view.summary}`, /\d+ ?%/);
});

test("fitted: when and from how many reviews, the API's summary, and the figures next to the defaults', rounded", () => {
  const view = describeScheduler({
    ...defaults, source: "fitted", desired_retention: 0.85, version: 3, fitted_at: "2026-11-30T08:15:00Z",
    reviews_used: 12412, summary: "predicted 87 % recall, remembered 85 %",
    evaluation: { log_loss: 0.41234, rmse_bins: 0.03456, default_log_loss: 0.45678, default_rmse_bins: 0.0612,
                  reviews: 2483 },
  });

  assert.equal(view.source, "Fitted to your own reviews (from 12,412 reviews, on 2026-11-30).");
  assert.equal(view.summary, "On your most recent reviews, held out of the fit: predicted 87 % recall, remembered 85 %.");
  assert.deepEqual(view.evaluation, [
    { label: "Log loss (lower is better)", yours: "0.412", defaults: "0.457" },
    { label: "Calibration error (lower is better)", yours: "3.5 %", defaults: "6.1 %" },
  ]);
  assert.equal(view.scored, "Scored on 2,483 reviews.");
  assert.equal(view.retention, "0.85");
});

test("fitted without a summary or some figures: nothing invented", () => {
  const view = describeScheduler({
    ...defaults, source: "fitted", fitted_at: null, reviews_used: 1,
    evaluation: { log_loss: null, rmse_bins: 0.02, default_log_loss: 0.5, default_rmse_bins: null, reviews: null },
  });

  assert.equal(view.source, "Fitted to your own reviews (from 1 review).");
  assert.equal(view.summary, "How well they predict your recall is not reported yet.");
  assert.deepEqual(view.evaluation.map((row) => [row.yours, row.defaults]), [["not scored", "0.500"], ["2.0 %", "not scored"]]);
  assert.equal(view.scored, "");
});

test("a retention is shown with two decimals, more only where it has them", () => {
  assert.deepEqual([0.7, 0.85, 0.97, 0.855].map(formatRetention), ["0.70", "0.85", "0.97", "0.855"]);
});
