"""The user-stream lease in real Redis: one holder at a time, renewed and released only by its
holder, gone when its holder stops renewing."""

from __future__ import annotations

import time

from trading.stream_lease import (
    lease_holder_new,
    lease_holders,
    leases_acquire,
    leases_release,
    leases_renew,
)


def test_a_lease_has_one_holder_and_only_the_holder_renews_or_releases_it() -> None:
    a, b = lease_holder_new(), lease_holder_new()
    assert a != b
    logins = ["lease-test-1", "lease-test-2"]
    leases_release(logins=logins, holder=a)
    assert leases_acquire(logins=logins[:1], holder=a, seconds=5) == {"lease-test-1"}
    assert leases_acquire(logins=logins, holder=b, seconds=5) == {"lease-test-2"}
    assert leases_acquire(logins=logins, holder=a, seconds=5) == {"lease-test-1"}  # its own
    assert leases_renew(logins=logins, holder=a, seconds=5) == {"lease-test-1"}
    assert leases_release(logins=logins, holder=a) == 1  # b's is untouched
    assert lease_holders(logins=logins) == {"lease-test-2": b}
    assert leases_renew(logins=["lease-test-1"], holder=a, seconds=5) == set()  # lost
    leases_release(logins=logins, holder=b)
    assert lease_holders(logins=logins) == {}


def test_a_lease_not_renewed_runs_out_and_another_holder_takes_it() -> None:
    a, b = lease_holder_new(), lease_holder_new()
    assert leases_acquire(logins=["lease-test-3"], holder=a, seconds=0.3) == {"lease-test-3"}
    assert leases_acquire(logins=["lease-test-3"], holder=b, seconds=5) == set()
    time.sleep(0.4)
    assert leases_renew(logins=["lease-test-3"], holder=a, seconds=5) == set()
    assert leases_acquire(logins=["lease-test-3"], holder=b, seconds=5) == {"lease-test-3"}
    leases_release(logins=["lease-test-3"], holder=b)
