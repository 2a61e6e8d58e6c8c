"""The fitting engine (functions/fitting's ``fitLearner``), reached two ways with the same JSON:
deployed, its own Node.js Lambda function invoked synchronously (LambdaFitter); locally and in
the tests, ``node functions/fitting/cli.mjs`` as a subprocess (NodeFitter). Either way
``fit(reviews, parameters)`` answers fitLearner's result. Neither is imported by the API."""
import json
import subprocess
from pathlib import Path
from typing import Callable, List, Sequence

CLI = Path(__file__).resolve().parents[2] / "functions" / "fitting" / "cli.mjs"
TIMEOUT_SECONDS = 600


class FitFailed(Exception):
    pass


def request_body(reviews: List[dict], parameters: Sequence[float]) -> str:
    return json.dumps({"reviews": reviews, "current": {"parameters": [float(p) for p in parameters]}})


class NodeFitter:
    def __init__(self, cli: Path = CLI, node: str = "node"):
        self._command = [node, str(cli)]

    def fit(self, reviews: List[dict], parameters: Sequence[float]) -> dict:
        done = subprocess.run(self._command, input=request_body(reviews, parameters), capture_output=True,
                              text=True, timeout=TIMEOUT_SECONDS, check=False)
        try:
            answer = json.loads(done.stdout)
        except ValueError:
            raise FitFailed(f"the fitter exited {done.returncode}: {done.stderr.strip()[-500:]}") from None
        if done.returncode != 0:
            raise FitFailed(f"the fitter refused the request: {answer}")
        return answer


class LambdaFitter:
    def __init__(self, function_name: str, client_factory: Callable[[], object]):
        self._function_name = function_name
        self._client_factory = client_factory
        self._client = None

    def fit(self, reviews: List[dict], parameters: Sequence[float]) -> dict:
        if self._client is None:
            self._client = self._client_factory()
        answer = self._client.invoke(FunctionName=self._function_name, InvocationType="RequestResponse",
                                     Payload=request_body(reviews, parameters).encode())
        result = json.loads(answer["Payload"].read())
        if answer.get("FunctionError") or "error" in result:
            raise FitFailed(f"the fitter failed: {result}")
        return result
