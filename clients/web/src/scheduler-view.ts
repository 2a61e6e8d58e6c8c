// What the /app page says of the learner's scheduler (GET /api/me/scheduler), in words: whose
// parameters are in use, how well they predicted the learner's held-out reviews, and the desired
// retention's range. A pure function of the API's answer, tested without a browser.
import type { Scheduler } from "./api.js";

export interface EvaluationRow { label: string; yours: string; defaults: string }

export interface SchedulerView {
  /** Whose parameters: the defaults, or fitted to the learner's own reviews (when, from how many). */
  source: string;
  /** The API's summary ("predicted 87 % recall, remembered 85 %") as a sentence, or what stands for it. */
  summary: string;
  /** The evaluation's figures against the defaults', rounded; none while the API has no evaluation. */
  evaluation: EvaluationRow[];
  /** How many held-out reviews the evaluation scored, when the API says. */
  scored: string;
  /** The desired retention as the input shows it. */
  retention: string;
}

const DEFAULTS_IN_USE = "The default parameters are in use. Parameters of your own are fitted once you " +
  "have made enough reviews, if they predict your answers better.";
const NOT_SCORED = "not scored";

const plural = (count: number, one: string) => `${count.toLocaleString("en-US")} ${one}${count === 1 ? "" : "s"}`;
const logLoss = (value: number | null) => (value === null ? NOT_SCORED : value.toFixed(3));
const calibration = (value: number | null) => (value === null ? NOT_SCORED : `${(100 * value).toFixed(1)} %`);

/** The desired retention as the page shows it: two decimals, more only where the stored value has them. */
export function formatRetention(value: number): string {
  return Number(value.toFixed(2)) === value ? value.toFixed(2) : String(value);
}

export function describeScheduler(scheduler: Scheduler): SchedulerView {
  const fitted = scheduler.source === "fitted";
  const from = [scheduler.reviews_used === null ? "" : `from ${plural(scheduler.reviews_used, "review")}`,
                scheduler.fitted_at === null ? "" : `on ${scheduler.fitted_at.slice(0, 10)}`].filter(Boolean);
  const source = fitted
    ? `Fitted to your own reviews${from.length ? ` (${from.join(", ")})` : ""}.`
    : "Default parameters: FSRS-6's, the same for every learner.";
  const summary = scheduler.summary !== null
    ? `On your most recent reviews, held out of the fit: ${scheduler.summary}.`
    : fitted ? "How well they predict your recall is not reported yet." : DEFAULTS_IN_USE;
  const evaluation = scheduler.evaluation;
  return {
    source,
    summary,
    evaluation: evaluation === null ? [] : [
      { label: "Log loss (lower is better)", yours: logLoss(evaluation.log_loss),
        defaults: logLoss(evaluation.default_log_loss) },
      { label: "Calibration error (lower is better)", yours: calibration(evaluation.rmse_bins),
        defaults: calibration(evaluation.default_rmse_bins) },
    ],
    scored: evaluation?.reviews == null ? "" : `Scored on ${plural(evaluation.reviews, "review")}.`,
    retention: formatRetention(scheduler.desired_retention),
  };
}
