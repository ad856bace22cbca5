"""The engine against closed-form answers: exponential stays, Poisson counts, reactions.

Each check allows four standard errors, so a correct engine fails about once
in 16,000 runs; the seeds are fixed, so in practice the outcome never changes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from datetime import date

from journeyflow.journey import Journey
from journeyflow.simulate import simulate
from journeyflow.simulate.plan import make_plan
from journeyflow.simulate.runner import run_plan

Compile = Callable[[str], Journey]


def within(observed: float, expected: float, n: int, sigmas: float = 4.0) -> bool:
    """A share of ``n`` draws is within ``sigmas`` binomial standard errors."""
    return abs(observed - expected) <= sigmas * math.sqrt(expected * (1 - expected) / n)


def test_exit_rate_leaves_exponential_share(compile_journey: Compile) -> None:
    # 10% per day is a rate of 0.1/day: after 7 days e^-0.7 are still there.
    j = compile_journey('''journey "exit"
event joined {}
event left {}
stage inside start { on left -> outside }
stage outside final
simulate {
  arrivals joined 20000 per day for 1d
  in inside { left 10% per day }
}''')
    plan = make_plan(j, j.behaviour, start=date(2026, 1, 1), days=9, seed=11)
    tally = run_plan(plan)
    n = tally.customers
    assert n == 20000
    left_within_7d = sum(k for hour, k in tally.reach_hours["outside"].items() if hour < 168)
    assert within(1 - left_within_7d / n, math.exp(-0.7), n)


def test_poisson_count(compile_journey: Compile) -> None:
    # 2 per day over exactly one day: a Poisson(2) count per customer.
    j = compile_journey('''journey "poisson"
event joined {}
event ping {}
stage here start { }
segment none where count(ping) == 0
segment four_or_more where count(ping) >= 4
value count(ping)
simulate {
  arrivals joined 10000 per day for 1d
  anywhere { ping 2 per day }
}''')
    plan = make_plan(j, j.behaviour, start=date(2026, 1, 1), days=1, seed=5)
    # Everybody arrives in the first second, so each one lives one whole day.
    lines = tuple(dataclasses.replace(line, window=1.0) for line in plan.lines)
    tally = run_plan(dataclasses.replace(plan, lines=lines))
    n = tally.customers
    mean = tally.value / n
    assert abs(mean - 2.0) <= 4 * math.sqrt(2.0 / n)
    assert within(tally.segments["none"] / n, math.exp(-2), n)
    p_le3 = math.exp(-2) * (1 + 2 + 2 + 4 / 3)
    assert within(tally.segments["four_or_more"] / n, 1 - p_le3, n)
    assert tally.events["ping"] == round(mean * n)


def test_reaction_probability_and_timing(compile_journey: Compile) -> None:
    j = compile_journey('''journey "react"
event joined {}
event clicked {}
message hello via email { subject "Hi" }
stage new start {
  on enter { send hello }
  on clicked -> engaged
}
stage engaged final
simulate {
  arrivals joined 8000 per day for 1d
  reacts to hello { clicked 30% within 2d }
}''')
    report = simulate(j, days=10, seed=3).report
    n = report["customers"]
    assert within(report["stages"]["engaged"]["share"], 0.3, n)
    # uniform within 2 days: the median reaction comes after one day
    assert abs(report["stages"]["engaged"]["median_days"] - 1.0) < 0.1
    assert report["events"]["reactions"]["clicked"] == report["stages"]["engaged"]["reached"]


def test_reacts_to_offers_and_deferred_sends(compile_journey: Compile) -> None:
    # The offer goes out at 08:00 after quiet hours; the reaction counts from then.
    j = compile_journey('''journey "offer"
event joined {}
event bought { amount: number }
message deal via email { subject "Deal" }
quiet hours 00:00 to 23:59
stage new start {
  on enter { offer cross_sell "x" via deal }
  on bought -> customer
}
stage customer final
value sum(bought.amount)
simulate {
  arrivals joined 2000 per day for 1d
  anywhere { bought 0 per day { amount: uniform(10, 20) } }
  reacts to deal { bought 100% within 1h }
}''')
    report = simulate(j, days=3, seed=2).report
    assert report["messages"]["deal"]["delivered"] == 2000
    assert report["stages"]["customer"]["reached"] == 2000
    assert 10 <= report["value"]["per_customer"] <= 20


def test_payload_distributions(compile_journey: Compile) -> None:
    j = compile_journey('''journey "payload"
event joined { channel: text }
event bought { amount: number, size: text = "m" }
stage a start { on bought where event.size == "s" -> b }
stage b { }
segment small_first where last(bought.amount) < 0
value sum(bought.amount)
simulate {
  arrivals joined 5000 per day for 1d { channel: choice("ads": 0.25, "web": 0.75) }
  in a, b { bought 1 per day { amount: normal(50, 30, min 0), size: choice("s": 0.5, "m": 0.5) } }
}''')
    report = simulate(j, days=2, seed=9, by="channel").report
    assert report["segments"]["small_first"]["customers"] == 0  # the bound holds
    groups = report["by"]["groups"]
    assert set(groups) == {"ads", "web"}
    assert within(groups["ads"]["customers"] / 5000, 0.25, 5000)
    # normal(50, 30) truncated at 0 has a mean above 50
    per_purchase = report["value"]["total"] / report["events"]["behaviour"]["bought"]
    assert 51 < per_purchase < 56


def test_arrivals_spread_and_rescale(compile_journey: Compile) -> None:
    j = compile_journey('''journey "arrive"
event joined {}
stage a start { }
simulate { arrivals joined 100 per day for 10d }''')
    report = simulate(j, days=20, seed=1).report
    assert report["customers"] == 1000
    occupancy = report["occupancy"]["stages"]["a"]
    assert occupancy[:10] == [100 * (k + 1) for k in range(10)]  # exactly 100 a day
    assert occupancy[-1] == 1000
    assert simulate(j, days=20, seed=1, customers=2500).report["customers"] == 2500
    # `for 10d` beyond a 5-day horizon is cut to the horizon, at the same rate
    assert simulate(j, days=5, seed=1).report["customers"] == 500
