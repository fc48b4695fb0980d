"""trading/broker_calls.CallQueue: at most N calls in flight per login, answers as they come."""

from __future__ import annotations

import threading
import time
from collections import Counter
from functools import partial

from trading.broker_calls import CallQueue


def test_a_login_never_has_more_than_its_share_in_flight_and_a_fast_login_is_not_held() -> None:
    lock = threading.Lock()
    in_flight: Counter[str] = Counter()
    most: Counter[str] = Counter()

    def call(login: str, seconds: float, answer: object) -> object:
        with lock:
            in_flight[login] += 1
            most[login] = max(most[login], in_flight[login])
        time.sleep(seconds)
        with lock:
            in_flight[login] -= 1
        if isinstance(answer, Exception):
            raise answer
        return answer

    calls: CallQueue[tuple[str, int]] = CallQueue(per_login=2)
    for number in range(6):
        calls.send("slow", ("slow", number), partial(call, "slow", 0.1, number))
    calls.send("fast", ("fast", 0), lambda: call("fast", 0.0, ValueError("refused")))
    order: list[tuple[str, int]] = []
    results: dict[tuple[str, int], object] = {}
    while calls.pending:
        for tag, result in calls.answers():
            order.append(tag)
            results[tag] = result
    assert most["slow"] == 2  # six calls, two at a time
    assert order[0] == ("fast", 0)  # not behind the slow login's queue
    assert isinstance(results[("fast", 0)], ValueError)  # an exception comes back as the answer
    assert {results[("slow", n)] for n in range(6)} == set(range(6))
    assert calls.answers() == []  # nothing pending: no wait
