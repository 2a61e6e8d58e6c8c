"""The packaged zip on the botocore that a Lambda runtime bundles, which is older than ours (the
zip vendors none): each in a venv of its own with the template's Python where this machine has
it. Its DynamoDB attempts stay bounded the same way: at most two a call, none after a success,
none after the budget, and none lost to an earlier request's failures."""
import json
import subprocess
import zipfile

import pytest

from chalicelib.storage.schema import TABLES
from devtools import dynamodb_local
from devtools.npm_packages import CACHE_DIR
from devtools.package import package
from devtools.provision import delete_tables, provision
from devtools.stage import PROJECT_DIR, stage_environment
from tests.dynamodb_proxy import FAIL_500, FORWARD, DynamoDBProxy

HARNESS = PROJECT_DIR / "tests" / "lambda_artifact_harness.py"
# The oldest boto3 a supported Lambda Python runtime may bundle, and the one before botocore
# 1.43.3 changed how a `needs-retry` answer of False is read.
LAMBDA_BOTO3 = ["1.34.162", "1.40.76"]


def runtime_python() -> str:
    return subprocess.run(["sh", str(PROJECT_DIR / "devtools" / "runtime_python.sh")], check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def unzipped(tmp_path_factory):
    out = tmp_path_factory.mktemp("package")
    package("dev", out)
    target = out / "unzipped"
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        archive.extractall(target)
    return target


@pytest.fixture(scope="module", params=LAMBDA_BOTO3)
def lambda_python(request):
    """A venv with only this boto3, made once into .cache/."""
    python = runtime_python()
    minor = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           check=True, capture_output=True, text=True).stdout.strip()
    venv = CACHE_DIR / "lambda-runtimes" / f"py{minor}-boto3-{request.param}"
    if not (venv / ".installed").exists():
        subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        f"boto3=={request.param}"], check=True)
        (venv / ".installed").touch()
    return venv / "bin" / "python", request.param


@pytest.fixture(scope="module")
def tables(dynamodb_local_server):
    client = dynamodb_local.client(dynamodb_local_server.endpoint)
    names = {logical: f"artifact-{logical}" for logical in TABLES}
    provision(client, names)
    yield names
    delete_tables(client, names)


def run_creates(lambda_python, unzipped, tables, endpoint, count, *then):
    """The dev stage's function (deployed limits) on these tables, at this DynamoDB endpoint."""
    python, _ = lambda_python
    env = {"PATH": "/usr/bin:/bin", **stage_environment("dev"), **dynamodb_local.LOCAL_CREDENTIALS,
           "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
           **{table.env_var: tables[logical] for logical, table in TABLES.items()}}
    run = subprocess.run([str(python), str(HARNESS), str(unzipped), str(count), *then], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    answers = [json.loads(line.split(" ", 1)[1]) for line in run.stdout.splitlines()
               if line.startswith(("answer ", "review "))]
    assert {answer["botocore"] for answer in answers if "botocore" in answer} == {lambda_python[1]}
    return answers


def test_a_create_sends_each_call_once(lambda_python, unzipped, tables, dynamodb_local_server):
    with DynamoDBProxy(dynamodb_local_server.endpoint) as proxy:
        answers = run_creates(lambda_python, unzipped, tables, proxy.endpoint, 2)

    assert [answer["status"] for answer in answers] == [201, 201]
    # the second create is warm; dev signs learners in and allows resets, so each create first
    # reads the learner's erased mark and epoch (one BatchGetItem)
    assert proxy.operations == ["BatchGetItem", "BatchGetItem", "PutItem", "BatchGetItem", "PutItem"]


def test_a_review_through_the_zip_schedules_its_word_with_the_vendored_fsrs(lambda_python, unzipped, tables,
                                                                            dynamodb_local_server):
    *_, review = run_creates(lambda_python, unzipped, tables, dynamodb_local_server.endpoint, 1, "review")

    assert review["status"] == 201  # the word's first review on one runtime, its second on the next
    assert review["memory"]["state"] in ("learning", "review") and review["memory"]["stability"] > 0


def test_a_silent_dynamodb_is_503_within_3_seconds_after_at_most_2_attempts(lambda_python, unzipped,
                                                                             tables, silent_dynamodb):
    endpoint, connections = silent_dynamodb

    [answer] = run_creates(lambda_python, unzipped, tables, endpoint, 1)

    assert (answer["status"], answer["code"]) == (503, "unavailable")
    assert answer["seconds"] < 3.0, answer
    assert 1 <= len(connections) <= 2


def test_failed_attempts_never_use_up_later_requests_second_attempts(lambda_python, unzipped, tables,
                                                                     dynamodb_local_server):
    """Every first attempt of a PutItem fails (500): each of 41 creates still gets its second."""
    plan = lambda operation, nth: FAIL_500 if operation == "PutItem" and nth % 2 == 0 else FORWARD  # noqa: E731
    with DynamoDBProxy(dynamodb_local_server.endpoint, plan) as proxy:
        answers = run_creates(lambda_python, unzipped, tables, proxy.endpoint, 41)

    assert [answer["status"] for answer in answers] == [201] * 41
    assert proxy.count("PutItem") == 82
