"""Finding: 200 wrong passwords in 90 s were all simply refused, and the right one then worked.

Sign-in is throttled per account and per address: after three failures each attempt must wait
twice as long as the last (1 s, 2 s, 4 s ... up to 60 s) and an attempt that comes early is
refused (429, Retry-After) without the password being checked; ten failures lock the account
for 15 minutes. Every attempt is audited. The clock is the app's FixedClock, so the delays are
measured on it, not slept. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.security._identity import Env, build, login_form
from vigil.identity.throttle import ACCOUNT_RULE, ADDRESS_RULE


@pytest.fixture
def env(db_url, clock, tmp_path) -> Env:
    return build(db_url, clock, tmp_path)


def test_brute_force_is_throttled_with_a_growing_delay(env: Env) -> None:
    c = TestClient(env.app)
    start = env.clock.now()
    checked: list[float] = []  # seconds since start of the attempts whose password was checked
    throttled = 0
    for i in range(200):  # 200 guesses in 90 s, as in the finding
        r = login_form(c, "analyst", f"guess number {i:03d} of the attacker")
        if r.status_code == 401:
            checked.append((env.clock.now() - start).total_seconds())
        else:
            assert r.status_code == 429, r.text
            assert "too many failed sign-ins" in r.text and int(r.headers["Retry-After"]) >= 1
            throttled += 1
        env.clock.advance(timedelta(seconds=0.45))
    # only a handful of guesses were ever checked; the rest were refused unchecked
    assert len(checked) <= 10 and throttled >= 190
    # the measured gap before each checked guess doubles after the free ones
    gaps = [b - a for a, b in zip(checked, checked[1:], strict=False)]
    for n, gap in enumerate(gaps[ACCOUNT_RULE.free - 1 :]):
        assert gap >= 2**n, (n, gaps)
    assert sum(gaps) >= 60  # the last checked guesses were at least a minute apart in total

    # the right password, now, is refused too: the account must still wait
    r = login_form(c, "analyst")
    assert r.status_code == 429
    wait = int(r.headers["Retry-After"])
    assert wait >= 1
    env.clock.advance(timedelta(seconds=wait))
    assert login_form(c, "analyst").status_code == 303

    failures = env.audit("signin.failure")
    assert len(failures) == len(checked)
    assert len(env.audit("signin.throttled")) == throttled + 1
    assert json.loads(failures[0].detail)["user"] == env.user_ids["analyst"]


def test_ten_failures_lock_the_account_for_fifteen_minutes(env: Env) -> None:
    c = TestClient(env.app)
    for _ in range(ACCOUNT_RULE.lockout_after):
        r = login_form(c, "ao", "not the password at all")
        while r.status_code == 429:  # wait exactly as long as told, then guess again
            env.clock.advance(timedelta(seconds=int(r.headers["Retry-After"])))
            r = login_form(c, "ao", "not the password at all")
        assert r.status_code == 401
    lockouts = env.audit("signin.lockout")
    assert len(lockouts) == 1 and json.loads(lockouts[0].detail)["locked"] == ["account"]
    r = login_form(c, "ao")  # the right password
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) == ACCOUNT_RULE.lockout.total_seconds()
    env.clock.advance(ACCOUNT_RULE.lockout - timedelta(seconds=1))
    assert login_form(c, "ao").status_code == 429
    env.clock.advance(timedelta(seconds=1))
    assert login_form(c, "ao").status_code == 303


def test_one_address_spraying_many_accounts_is_throttled(env: Env) -> None:
    attacker = TestClient(env.app, client=("203.0.113.7", 40000))
    checked = 0
    for i in range(100):  # one guess at each of 100 names: no account counter grows past one
        r = login_form(attacker, f"officer{i:03d}", "Summer2024!Summer")
        checked += r.status_code == 401
        env.clock.advance(timedelta(seconds=0.45))
    assert checked <= ADDRESS_RULE.free + 6
    # someone else, from their own address, signs in as usual
    colleague = TestClient(env.app, client=("198.51.100.20", 40000))
    assert login_form(colleague, "analyst").status_code == 303
    assert login_form(attacker, "analyst").status_code == 429


def test_a_success_resets_the_account_not_the_address(env: Env) -> None:
    c = TestClient(env.app)
    for _ in range(ACCOUNT_RULE.free):
        assert login_form(c, "analyst", "a wrong password here").status_code == 401
    assert login_form(c, "analyst").status_code == 429
    env.clock.advance(timedelta(seconds=1))
    assert login_form(c, "analyst").status_code == 303
    c2 = TestClient(env.app)
    for _ in range(ACCOUNT_RULE.free):
        assert login_form(c2, "analyst", "a wrong password here").status_code == 401
