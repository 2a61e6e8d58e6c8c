"""Parallel creates over HTTP, for the concurrency tests and `make bench` (loopback only)."""
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, NamedTuple, Optional, Union

import requests


class Reply(NamedTuple):
    status: Optional[int]  # None when the request failed below HTTP
    body: Optional[dict]
    headers: dict
    seconds: float
    failure: Optional[str]


def post_in_parallel(base_url: str, body: Union[dict, Callable[[int], dict]], count: int, threads: int,
                     headers: Optional[dict] = None, keep_alive: bool = True,
                     path: str = "/api/study-sessions") -> List[Reply]:
    """``count`` POSTs (creates, unless ``path`` says otherwise) from ``threads`` threads: on
    one kept-alive connection per thread, or (``keep_alive=False``) on a new connection per
    request, as a browser with several tabs or a load tool opens them. ``body``: the same for
    each, or the body of the n-th."""
    sessions: queue.Queue[requests.Session] = queue.Queue()
    for _ in range(threads):
        sessions.put(requests.Session())
    url = f"{base_url}{path}"

    def post(number):
        session = sessions.get()
        sent = body(number) if callable(body) else body
        start = time.perf_counter()
        try:
            if keep_alive:
                response = session.post(url, json=sent, headers=headers or {}, timeout=30)
            else:
                response = requests.post(url, json=sent, headers={**(headers or {}), "Connection": "close"},
                                         timeout=30)
            return Reply(response.status_code, response.json(), dict(response.headers),
                         time.perf_counter() - start, None)
        except (requests.RequestException, ValueError) as error:
            return Reply(None, None, {}, time.perf_counter() - start, type(error).__name__)
        finally:
            sessions.put(session)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(post, range(count)))
