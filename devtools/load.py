"""Parallel POSTs over connections opened beforehand, one at a time.

chalice local listens with a queue of 5: many connections opened at once overflow it (1 s
SYN retries, the odd reset), which would measure the dev server, not the app."""
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from typing import List, NamedTuple, Optional

import requests


class Reply(NamedTuple):
    status: Optional[int]  # None when the request failed below HTTP
    body: Optional[dict]
    headers: dict
    seconds: float
    failure: Optional[str]


def post_in_parallel(base_url: str, body: dict, count: int, threads: int,
                     headers: Optional[dict] = None) -> List[Reply]:
    sessions: queue.Queue[requests.Session] = queue.Queue()
    for _ in range(threads):
        session = requests.Session()
        session.get(f"{base_url}/api/groups", timeout=30).raise_for_status()
        sessions.put(session)

    def post(_):
        session = sessions.get()
        start = time.perf_counter()
        try:
            response = session.post(f"{base_url}/api/study-sessions", json=body,
                                    headers=headers or {}, timeout=30)
            return Reply(response.status_code, response.json(), dict(response.headers),
                         time.perf_counter() - start, None)
        except (requests.RequestException, ValueError) as error:
            return Reply(None, None, {}, time.perf_counter() - start, type(error).__name__)
        finally:
            sessions.put(session)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(post, range(count)))
