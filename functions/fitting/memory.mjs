// FSRS-6 memory of one word, as the Python package `fsrs` 6.3.2 computes it (fsrs/scheduler.py):
// Scheduler(parameters, desired_retention=0.9, enable_fuzzing=False) with its default learning
// steps (1 min, 10 min) and relearning step (10 min). Times are whole seconds since the epoch.
// Every formula keeps the Python operand order, so the floats agree to the last few bits.

export const DEFAULT_PARAMETERS = Object.freeze([
  0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
  1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542,
]);
export const LOWER_BOUNDS = Object.freeze([
  0.001, 0.001, 0.001, 0.001, 1.0, 0.001, 0.001, 0.001, 0.0, 0.0, 0.001,
  0.001, 0.001, 0.001, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.1,
]);
export const UPPER_BOUNDS = Object.freeze([
  100.0, 100.0, 100.0, 100.0, 10.0, 4.0, 4.0, 0.75, 4.5, 0.8, 3.5,
  5.0, 0.25, 0.9, 4.0, 1.0, 6.0, 2.0, 2.0, 0.8, 0.8,
]);

export const Rating = Object.freeze({ Again: 1, Hard: 2, Good: 3, Easy: 4 });
export const State = Object.freeze({ Learning: 1, Review: 2, Relearning: 3 });

const SECONDS_PER_DAY = 86400;
const STABILITY_MIN = 0.001;
const MIN_DIFFICULTY = 1.0;
const MAX_DIFFICULTY = 10.0;
const E = Math.E;

export const NEW_CARD = Object.freeze({
  state: State.Learning, step: 0, stability: null, difficulty: null, due: null, lastReview: null,
});

// Python's timedelta.days: whole days, floored.
export function wholeDaysBetween(earlierSeconds, laterSeconds) {
  return Math.floor((laterSeconds - earlierSeconds) / SECONDS_PER_DAY);
}

// Python's round(): half to even.
function roundHalfEven(value) {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function createScheduler(parameters = DEFAULT_PARAMETERS, {
  desiredRetention = 0.9,
  learningSteps = [60, 600],
  relearningSteps = [600],
  maximumInterval = 36500,
} = {}) {
  const w = checkedParameters(parameters);
  const decay = -w[20];
  const factor = 0.9 ** (1 / decay) - 1;

  const clampDifficulty = (difficulty) => Math.min(Math.max(difficulty, MIN_DIFFICULTY), MAX_DIFFICULTY);
  const clampStability = (stability) => Math.max(stability, STABILITY_MIN);

  const initialStability = (rating) => clampStability(w[rating - 1]);
  const initialDifficulty = (rating, clamp) => {
    const difficulty = w[4] - E ** (w[5] * (rating - 1)) + 1;
    return clamp ? clampDifficulty(difficulty) : difficulty;
  };
  const nextIntervalDays = (stability) => {
    const interval = (stability / factor) * (desiredRetention ** (1 / decay) - 1);
    return Math.min(Math.max(roundHalfEven(interval), 1), maximumInterval);
  };
  const shortTermStability = (stability, rating) => {
    let increase = E ** (w[17] * (rating - 3 + w[18])) * stability ** -w[19];
    if (rating !== Rating.Again) increase = Math.max(increase, 1.0);
    return clampStability(stability * increase);
  };
  const nextDifficulty = (difficulty, rating) => {
    const deltaDifficulty = -(w[6] * (rating - 3));
    const damped = difficulty + ((10.0 - difficulty) * deltaDifficulty) / 9.0;
    const reverted = w[7] * initialDifficulty(Rating.Easy, false) + (1 - w[7]) * damped;
    return clampDifficulty(reverted);
  };
  const forgetStability = (difficulty, stability, recall) => {
    const longTerm = w[11] * difficulty ** -w[12] * ((stability + 1) ** w[13] - 1)
      * E ** ((1 - recall) * w[14]);
    const shortTerm = stability / E ** (w[17] * w[18]);
    return Math.min(longTerm, shortTerm);
  };
  const recallStability = (difficulty, stability, recall, rating) => {
    const hardPenalty = rating === Rating.Hard ? w[15] : 1;
    const easyBonus = rating === Rating.Easy ? w[16] : 1;
    return stability * (1 + E ** w[8] * (11 - difficulty) * stability ** -w[9]
      * (E ** ((1 - recall) * w[10]) - 1) * hardPenalty * easyBonus);
  };
  const nextStability = (difficulty, stability, recall, rating) => clampStability(
    rating === Rating.Again
      ? forgetStability(difficulty, stability, recall)
      : recallStability(difficulty, stability, recall, rating),
  );

  function retrievability(card, atSeconds) {
    if (card.lastReview === null || card.stability === null) return 0;
    const elapsedDays = Math.max(0, wholeDaysBetween(card.lastReview, atSeconds));
    return (1 + (factor * elapsedDays) / card.stability) ** decay;
  }

  // The long-term update, or the short-term one for a review within a day of the last.
  function updatedMemory(card, rating, atSeconds, sameDay) {
    if (sameDay) {
      return { stability: shortTermStability(card.stability, rating), difficulty: nextDifficulty(card.difficulty, rating) };
    }
    const recall = retrievability(card, atSeconds);
    return {
      stability: nextStability(card.difficulty, card.stability, recall, rating),
      difficulty: nextDifficulty(card.difficulty, rating),
    };
  }

  // Where a Learning or Relearning card goes next: [state, step, interval in seconds].
  function stepOn(state, step, steps, rating, stability) {
    const graduate = () => [State.Review, null, nextIntervalDays(stability) * SECONDS_PER_DAY];
    if (steps.length === 0 || (step >= steps.length && rating !== Rating.Again)) return graduate();
    switch (rating) {
      case Rating.Again:
        return [state, 0, steps[0]];
      case Rating.Hard:
        if (step === 0 && steps.length === 1) return [state, step, steps[0] * 1.5];
        if (step === 0) return [state, step, (steps[0] + steps[1]) / 2.0];
        return [state, step, steps[step]];
      case Rating.Good:
        return step + 1 === steps.length ? graduate() : [state, step + 1, steps[step + 1]];
      case Rating.Easy:
        return graduate();
      default:
        throw new RangeError(`unknown rating ${rating}`);
    }
  }

  function reviewCard(card, rating, atSeconds) {
    const daysSinceLast = card.lastReview === null ? null : wholeDaysBetween(card.lastReview, atSeconds);
    const sameDay = daysSinceLast !== null && daysSinceLast < 1;
    let memory;
    let next;
    if (card.state === State.Review) {
      memory = updatedMemory(card, rating, atSeconds, sameDay);
      next = rating === Rating.Again && relearningSteps.length > 0
        ? [State.Relearning, 0, relearningSteps[0]]
        : [State.Review, null, nextIntervalDays(memory.stability) * SECONDS_PER_DAY];
    } else {
      memory = card.stability === null || card.difficulty === null
        ? { stability: initialStability(rating), difficulty: initialDifficulty(rating, true) }
        : updatedMemory(card, rating, atSeconds, sameDay);
      const steps = card.state === State.Learning ? learningSteps : relearningSteps;
      next = stepOn(card.state, card.step, steps, rating, memory.stability);
    }
    const [state, step, intervalSeconds] = next;
    return { state, step, ...memory, due: atSeconds + intervalSeconds, lastReview: atSeconds };
  }

  return { parameters: w, retrievability, reviewCard };
}

export function checkedParameters(parameters) {
  if (!Array.isArray(parameters) || parameters.length !== LOWER_BOUNDS.length) {
    throw new RangeError(`expected ${LOWER_BOUNDS.length} parameters`);
  }
  parameters.forEach((value, index) => {
    if (typeof value !== 'number' || !(value >= LOWER_BOUNDS[index] && value <= UPPER_BOUNDS[index])) {
      throw new RangeError(`parameters[${index}] = ${value} is out of bounds [${LOWER_BOUNDS[index]}, ${UPPER_BOUNDS[index]}]`);
    }
  });
  return Object.freeze([...parameters]);
}
