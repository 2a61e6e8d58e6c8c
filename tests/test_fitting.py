"""functions/fitting end to end: its CLI run as a subprocess on a simulated learner, the engine real.
Its figures are checked against the Python `fsrs` package the API schedules with."""
import importlib.util
import json
import math
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsrs
import pytest

FITTING = Path(__file__).resolve().parent.parent / "functions" / "fitting"
DAY = timedelta(days=1)
TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"
EVALUATION_SHARE = 0.2
# Forgets more slowly than the defaults say: higher initial stabilities, faster growth on recall.
TRUE_PARAMETERS = list(fsrs.scheduler.DEFAULT_PARAMETERS)
TRUE_PARAMETERS[0:4] = [1.0, 4.0, 8.0, 25.0]
TRUE_PARAMETERS[8] = 2.3


@pytest.fixture(scope="session")
def fitting_cli():
    if not (FITTING / "node_modules" / "@open-spaced-repetition" / "binding").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=FITTING, check=True)
    return FITTING / "cli.mjs"


def run_cli(cli: Path, request) -> subprocess.CompletedProcess:
    payload = request if isinstance(request, str) else json.dumps(request)
    return subprocess.run(["node", str(cli)], input=payload, capture_output=True, text=True, timeout=300)


def simulated_reviews(seed=5, words=300, new_words_per_day=2, days=240) -> list:
    """Words reviewed when the default scheduler has them due; each answer correct with the
    probability that the true parameters give (a new word: one in two)."""
    rng = random.Random(seed)
    planner = fsrs.Scheduler(enable_fuzzing=False)
    truth = fsrs.Scheduler(parameters=TRUE_PARAMETERS, enable_fuzzing=False)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    reviews = []
    for word in range(words):
        first_of_day = timedelta(seconds=8 * 3600 + rng.randrange(12 * 3600))
        at = start + (word // new_words_per_day) * DAY + first_of_day
        planned, memory = fsrs.Card(), fsrs.Card()
        while at < start + days * DAY:
            recall = truth.get_card_retrievability(memory, at) if memory.last_review else 0.5
            correct = rng.random() < recall
            rating = fsrs.Rating.Good if correct else fsrs.Rating.Again
            reviews.append({"word_id": word, "reviewed_at": at.strftime(TIMESTAMP), "correct": correct})
            memory, _ = truth.review_card(memory, rating, at)
            planned, _ = planner.review_card(planned, rating, at)
            late = rng.randrange(300) if planned.due - at < DAY else rng.randrange(86400)
            at = planned.due + timedelta(seconds=late)
    rng.shuffle(reviews)  # the CLI sorts
    return reviews


def python_figures(reviews: list, parameters: list) -> dict:
    """What fitLearner should report, computed with `fsrs` itself: the held-out split, the
    training items, and log loss and RMSE(bins) on the newest 20 %."""
    ordered = sorted(enumerate(reviews), key=lambda pair: (pair[1]["reviewed_at"], pair[0]))
    moments = [datetime.strptime(review["reviewed_at"], TIMESTAMP).replace(tzinfo=UTC)
               for _, review in ordered]
    training_count = len(ordered) - math.ceil(len(ordered) * EVALUATION_SHARE)
    scheduler = fsrs.Scheduler(parameters=parameters, desired_retention=0.9, enable_fuzzing=False)
    cards, scored, training_items = {}, [], 0
    for position, ((_, review), at) in enumerate(zip(ordered, moments, strict=True)):
        card = cards.get(review["word_id"], fsrs.Card())
        after_a_day = card.last_review is not None and at - card.last_review >= DAY
        if after_a_day and position < training_count:
            training_items += 1
        if after_a_day and position >= training_count:
            scored.append((scheduler.get_card_retrievability(card, at), review["correct"]))
        rating = fsrs.Rating.Good if review["correct"] else fsrs.Rating.Again
        cards[review["word_id"]], _ = scheduler.review_card(card, rating, at)
    log_loss = -sum(math.log(p if recalled else 1 - p) for p, recalled in scored) / len(scored)
    bins = {}
    for p, recalled in scored:
        count, predicted, observed = bins.get(min(int(p * 20), 19), (0, 0.0, 0))
        bins[min(int(p * 20), 19)] = (count + 1, predicted + p, observed + recalled)
    rmse = math.sqrt(sum(n * (predicted / n - observed / n) ** 2 for n, predicted, observed in bins.values())
                     / len(scored))
    return {"held_out": len(ordered) - training_count, "reviews": len(scored),
            "training_items": training_items, "log_loss": log_loss, "rmse_bins": rmse}


def test_fit_of_a_simulated_learner_end_to_end(fitting_cli):
    reviews = simulated_reviews()
    assert len(reviews) >= 1000
    defaults = list(fsrs.scheduler.DEFAULT_PARAMETERS)
    finished = run_cli(fitting_cli, {"reviews": reviews, "current": {"parameters": defaults}})
    assert finished.returncode == 0, finished.stdout + finished.stderr
    result = json.loads(finished.stdout)

    candidate = result["candidate"]
    assert len(candidate) == 21
    fsrs.Scheduler(parameters=candidate)  # raises when a parameter is out of its bounds

    expected_current = python_figures(reviews, defaults)
    expected_candidate = python_figures(reviews, candidate)
    evaluation = result["evaluation"]
    assert result["reviews_used"] == len(reviews)
    assert result["training_items"] == expected_current["training_items"]
    assert evaluation["held_out_reviews"] == expected_current["held_out"]
    assert evaluation["reviews"] == expected_current["reviews"]
    for name in ("log_loss", "rmse_bins"):
        assert evaluation[f"current_{name}"] == pytest.approx(expected_current[name], abs=1e-9)
        assert evaluation[f"default_{name}"] == evaluation[f"current_{name}"]
        assert evaluation[name] == pytest.approx(expected_candidate[name], abs=1e-9)

    better = (evaluation["log_loss"] < evaluation["current_log_loss"]
              and evaluation["rmse_bins"] <= evaluation["current_rmse_bins"])
    assert result["adopted"] is better
    # This learner forgets clearly more slowly than the defaults say.
    assert result["adopted"], result["reason"]
    assert candidate[2] > defaults[2]  # the initial stability after a correct first answer


def test_too_few_reviews(fitting_cli):
    reviews = simulated_reviews(words=10)
    finished = run_cli(fitting_cli, {"reviews": reviews,
                                     "current": {"parameters": list(fsrs.scheduler.DEFAULT_PARAMETERS)}})
    assert finished.returncode == 0
    result = json.loads(finished.stdout)
    assert (result["adopted"], result["reason"]) == (False, "too_few_reviews")
    assert result["reviews_used"] == len(reviews)
    assert result["needed"] > len(reviews)


@pytest.mark.parametrize("request_text", [
    "{",
    json.dumps({"reviews": [], "current": {"parameters": [0.5] * 20}}),
    json.dumps({"reviews": [{"word_id": 1, "reviewed_at": "2024-01-01T00:00:00+00:00", "correct": True}],
                "current": {"parameters": list(fsrs.scheduler.DEFAULT_PARAMETERS)}}),
])
def test_bad_input_exits_2_with_one_line_of_json(fitting_cli, request_text):
    finished = run_cli(fitting_cli, request_text)
    assert finished.returncode == 2
    assert len(finished.stdout.strip().splitlines()) == 1
    assert json.loads(finished.stdout)["kind"] == "InputError"


def test_the_replay_fixture_is_what_python_fsrs_makes_now():
    """memory.mjs is checked (node --test) against a committed fixture: it must still be what the
    installed `fsrs` computes."""
    script = FITTING / "test" / "make_python_fixture.py"
    spec = importlib.util.spec_from_file_location("make_python_fixture", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.fixture() == json.loads(module.FIXTURE.read_text())
