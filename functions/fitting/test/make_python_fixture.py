"""Writes test/fixtures/python-fsrs-replays.json: random review histories replayed by the Python
package `fsrs` (the scheduler the API uses), so that memory.mjs can be checked against it.

    .venv/bin/python functions/fitting/test/make_python_fixture.py

Each case is a parameter vector and some words' reviews; each review records what `fsrs` says
just before it (retrievability) and after it (state, step, stability, difficulty, due)."""
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import fsrs
from fsrs.scheduler import DEFAULT_PARAMETERS
from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS as LOWER_BOUNDS
from fsrs.scheduler import UPPER_BOUNDS_PARAMETERS as UPPER_BOUNDS

FIXTURE = Path(__file__).parent / "fixtures" / "python-fsrs-replays.json"
SEED = 20240639
CASES = 24
WORDS_PER_CASE = 8
START = datetime(2024, 3, 1, tzinfo=UTC)
# Gaps between reviews, in seconds: the learning steps' minutes, same-day hours, days to months.
GAP_SCALES = (60, 600, 3600, 6 * 3600, 86400, 3 * 86400, 20 * 86400, 120 * 86400)


def random_parameters(rng: random.Random, case: int) -> list:
    if case == 0:
        return list(DEFAULT_PARAMETERS)
    if case % 2:
        return [rng.uniform(low, high) for low, high in zip(LOWER_BOUNDS, UPPER_BOUNDS, strict=True)]
    return [min(max(value * rng.uniform(0.3, 3.0), low), high)
            for value, low, high in zip(DEFAULT_PARAMETERS, LOWER_BOUNDS, UPPER_BOUNDS, strict=True)]


def replay_word(rng: random.Random, scheduler: fsrs.Scheduler) -> dict:
    moment = START + timedelta(seconds=rng.randrange(30 * 86400))
    card, reviews = fsrs.Card(), []
    for _ in range(rng.randrange(1, 25)):
        correct = rng.random() < 0.75
        before = scheduler.get_card_retrievability(card, moment)
        card, _ = scheduler.review_card(card, fsrs.Rating.Good if correct else fsrs.Rating.Again, moment)
        reviews.append({
            "at": int(moment.timestamp()), "correct": correct, "retrievability": before,
            "state": int(card.state), "step": card.step, "stability": card.stability,
            "difficulty": card.difficulty, "due": int(card.due.timestamp()),
        })
        moment += timedelta(seconds=int(rng.choice(GAP_SCALES) * rng.uniform(0.5, 2.0)))
    return {"reviews": reviews}


def fixture() -> dict:
    rng = random.Random(SEED)
    cases = []
    for case in range(CASES):
        parameters = random_parameters(rng, case)
        scheduler = fsrs.Scheduler(parameters=parameters, desired_retention=0.9, enable_fuzzing=False)
        cases.append({"parameters": parameters,
                      "words": [replay_word(rng, scheduler) for _ in range(WORDS_PER_CASE)]})
    return {"fsrs_version": version("fsrs"), "seed": SEED, "cases": cases}


def main() -> None:
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(fixture(), separators=(",", ":")) + "\n")
    print(f"wrote {FIXTURE}", file=sys.stderr)


if __name__ == "__main__":
    main()
