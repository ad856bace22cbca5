"""`journeyflow report`: real customers run into a SQLite store by `journeyflow run --store`,
reported, and every figure checked against the run's own trace and state file."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from journeyflow.cli import main
from journeyflow.runtime.splits import holdout_test
from tests.conftest import EXAMPLES
from tests.peers import free_port, http_hook_running

SHOP = """journey "shop"
customer {
  email: text
  opt_in: bool = true
}
event signed_up {}
event purchased { amount: number }
event unsubscribed {}
message welcome via email { subject "Welcome" }
message nudge via push { body "Come back" }
message coupon via email { subject "Coupon" }
message plain via email { subject "We miss you" }
limit email to 1 per 7d
consent email where opt_in
consent push where opt_in
holdout 20%
goal converted on purchased
value sum(purchased.amount)
anywhere {
  on unsubscribed { set opt_in = false }
}
stage new start {
  on signed_up -> active
}
stage active {
  on enter {
    send welcome
    send nudge
  }
  on purchased -> bought
  after 2d -> lapsed
}
stage lapsed {
  on enter {
    split "offer" {
      50% coupon { send coupon }
      50% plain { send plain }
    }
  }
  on purchased -> bought
  after 5d -> gone
}
stage bought final
stage gone final
"""


def shop_events(customers: int = 60) -> list[dict[str, Any]]:
    """Sign-ups, some unsubscribes (no consent later), purchases early and late, and two
    events the journey rejects."""
    events: list[dict[str, Any]] = []
    for i in range(customers):
        cid = f"c{i:03d}"
        minute = f"{i // 60:02d}:{i % 60:02d}"
        events.append({"at": f"2026-03-02T10:{minute[-2:]}:00Z", "customer": cid,
                       "event": "signed_up", "attributes": {"email": f"{cid}@example.org"}})
        if i % 5 == 0:
            events.append({"at": f"2026-03-02T11:{minute[-2:]}:00Z", "customer": cid,
                           "event": "unsubscribed"})
        if i % 3 == 0:
            events.append({"at": f"2026-03-03T12:{minute[-2:]}:00Z", "customer": cid,
                           "event": "purchased", "data": {"amount": 10 + i}})
        elif i % 7 == 0:
            events.append({"at": f"2026-03-06T12:{minute[-2:]}:00Z", "customer": cid,
                           "event": "purchased", "data": {"amount": 100}})
    events.sort(key=lambda e: str(e["at"]))
    events += [{"at": "2026-03-06T13:00:00Z", "customer": "c001", "event": "purchased",
                "data": {"amount": "lots"}},
               {"at": "2026-03-06T13:00:00Z", "customer": "c002", "event": "bought"}]
    return events


@dataclass
class Run:
    """One `journeyflow run --store` and what it wrote."""

    journey: Path
    store: str
    trace: list[dict[str, Any]]
    state: dict[str, Any]
    dir: Path


def run_into_store(runner: CliRunner, tmp: Path, journey: Path, events: Path, until: str,
                   channels: list[str]) -> Run:
    store = f"sqlite:///{tmp / 'state.db'}"
    args = ["run", str(journey), "--events", str(events), "--until", until, "--store", store,
            "--trace", str(tmp / "trace.jsonl"), "--state", str(tmp / "state.json")]
    for channel in channels:
        args += ["--channel", channel]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    trace = [json.loads(line) for line in (tmp / "trace.jsonl").read_text().splitlines()]
    state = json.loads((tmp / "state.json").read_text())
    return Run(journey, store, trace, state, tmp)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The shop journey: email to a webhook that takes it, push to a port nobody listens
    on (every nudge ends dead), nothing for the CRM."""
    tmp = tmp_path_factory.mktemp("shop")
    journey = tmp / "shop.journey"
    journey.write_text(SHOP, "utf-8")
    events = tmp / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in shop_events()), "utf-8")
    with http_hook_running() as (_, url):
        yield run_into_store(CliRunner(), tmp, journey, events, "2026-03-20T00:00:00Z",
                             [f"email={url}",
                              f"push=http://127.0.0.1:{free_port()}/?attempts=2&backoff=0"])


def report_of(runner: CliRunner, run: Run, *extra: str) -> dict[str, Any]:
    out = run.dir / "report.json"
    result = runner.invoke(main, ["report", str(run.journey), "--store", run.store,
                                  "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(out.read_text("utf-8"))
    return data


def customers_with(trace: list[dict[str, Any]], kind: str, key: str) -> Counter[str]:
    """For each value of ``key`` in records of ``kind``: how many customers have one."""
    seen = {(r["customer"], r[key]) for r in trace if r["kind"] == kind}
    return Counter(value for _, value in seen)


def actions(trace: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    return [r for r in trace if r["kind"] == "action" and r["action"] in names]


def test_the_funnel_is_what_the_trace_says(shop: Run, runner: CliRunner) -> None:
    report = report_of(runner, shop)
    customers = shop.state["customers"]
    assert report["format"] == "journeyflow-live/1"
    assert report["customers"] == len(customers) == 60
    reached = customers_with(shop.trace, "enter", "stage")
    now = Counter(c["stage"] for c in customers.values())
    for stage, figures in report["stages"].items():
        assert figures["reached"] == reached[stage], stage
        assert figures["at_end"] == now[stage], stage
        assert figures["share"] == round(reached[stage] / 60, 6)
    transitions = Counter((r["from"], r["to"]) for r in shop.trace if r["kind"] == "transition")
    assert {(t["from"], t["to"]): t["count"] for t in report["transitions"]} == transitions
    assert report["as_of"] == max(r["at"] for r in shop.trace if r["at"] is not None)


def test_goals_value_and_messages_are_what_the_trace_says(shop: Run,
                                                          runner: CliRunner) -> None:
    report = report_of(runner, shop)
    goals = customers_with(shop.trace, "goal", "goal")
    assert report["goals"]["converted"]["reached"] == goals["converted"] > 0
    value = sum(c["value"] for c in shop.state["customers"].values())
    assert report["value"]["total"] == value > 0
    sent = Counter(r["message"] for r in actions(shop.trace, "send", "offer"))
    suppressed = Counter(r["message"] for r in shop.trace if r["kind"] == "suppressed")
    for message, figures in report["messages"].items():
        assert (figures["delivered"], figures["suppressed"]) == (
            sent[message], suppressed[message]), message
    reasons = Counter(r["reason"] for r in shop.trace if r["kind"] == "suppressed")
    assert report["suppressed"] == dict(reasons)
    assert set(reasons) == {"frequency_cap", "holdout", "no_consent"}


def test_deliveries_by_status_come_from_the_outbox(shop: Run, runner: CliRunner) -> None:
    deliveries = report_of(runner, shop)["deliveries"]
    final = Counter((r["message"], r["status"]) for r in shop.trace
                    if r["kind"] == "delivery" and r["status"] != "failed")
    assert deliveries["messages"]["nudge"] == {
        "channel": "push", "sent": 0, "pending": 0, "dead": final["nudge", "dead"]}
    assert final["nudge", "dead"] > 0
    assert deliveries["messages"]["welcome"]["sent"] == final["welcome", "sent"] > 0
    assert deliveries["dead"] == sum(n for (_, s), n in final.items() if s == "dead")
    assert deliveries["sent"] == sum(n for (_, s), n in final.items() if s == "sent")
    assert deliveries["pending"] == 0
    attempts = sum(1 for r in shop.trace if r["kind"] == "delivery")
    assert deliveries["attempts"] == attempts
    assert deliveries["channels"]["push"]["dead"] == final["nudge", "dead"]


def test_split_arms_and_holdout_are_per_customer(shop: Run, runner: CliRunner) -> None:
    report = report_of(runner, shop)
    customers = shop.state["customers"]
    arm_of = {r["customer"]: r["arm"] for r in actions(shop.trace, "split")}
    (split,) = report["splits"]
    for arm in split["arms"]:
        members = [cid for cid, name in arm_of.items() if name == arm["name"]]
        assert arm["customers"] == len(members) > 0
        assert arm["goals"]["converted"] == sum("converted" in customers[c]["goals"]
                                                for c in members)
        value = sum(customers[c]["value"] for c in members)
        assert arm["value_per_customer"] == round(value / len(members), 4)
    held = holdout_test("shop", 20.0)
    cohorts = {True: [c for c in customers if held(c)], False: [c for c in customers
                                                                 if not held(c)]}
    holdout = report["holdout"]
    assert holdout["customers"] == {"journey": len(cohorts[False]),
                                    "holdout": len(cohorts[True])}
    for name, members in (("journey", cohorts[False]), ("holdout", cohorts[True])):
        rate = sum("converted" in customers[c]["goals"] for c in members) / len(members)
        assert holdout[name]["goal_rates"]["converted"] == round(rate, 6)
    uplift = holdout["uplift"]["value_per_customer"]
    assert uplift["low"] <= uplift["difference"] <= uplift["high"]
    # each arm against the held-out customers of the same arm
    assert [(a["split"], a["arm"]) for a in report["arm_uplift"]] == [
        ("offer", "coupon"), ("offer", "plain")]
    for arm in report["arm_uplift"]:
        members = [cid for cid, name in arm_of.items() if name == arm["arm"]]
        out = [c for c in members if held(c)]
        assert arm["customers"] == {"journey": len(members) - len(out), "holdout": len(out)}
        assert arm["share"] == 20.0
        mine = [c for c in members if not held(c)]
        assert arm["journey"]["value_per_customer"] == round(
            sum(customers[c]["value"] for c in mine) / len(mine), 6)
    # held-out customers got no marketing: their sends are suppressed with reason holdout
    held_suppressed = {r["customer"] for r in shop.trace
                       if r["kind"] == "suppressed" and r["reason"] == "holdout"}
    assert held_suppressed == set(cohorts[True])


def test_rejected_events_are_counted_by_reason(shop: Run, runner: CliRunner) -> None:
    rejected = report_of(runner, shop)["rejected"]
    assert rejected == {"count": 2, "reasons": {
        "field 'amount' must be a number, got 'lots'": 1, "unknown event 'bought'": 1}}


def test_the_bootstrap_seed_makes_the_interval(shop: Run, runner: CliRunner) -> None:
    one = report_of(runner, shop, "--seed", "1")
    again = report_of(runner, shop, "--seed", "1")
    other = report_of(runner, shop, "--seed", "2")
    assert one == again
    assert one["seed"] == 1
    assert other["seed"] == 2
    assert one["holdout"]["uplift"] != other["holdout"]["uplift"]


def test_a_later_instant_changes_the_frame_not_the_figures(shop: Run,
                                                           runner: CliRunner) -> None:
    now = report_of(runner, shop)
    later = report_of(runner, shop, "--at", "2026-04-20T00:00:00Z")
    assert later["as_of"] == "2026-04-20T00:00:00Z"
    # every shop customer is in a final stage: their time in the journey has ended
    assert later["customer_weeks"] == now["customer_weeks"]
    assert later["stages"] == now["stages"]
    assert len(later["occupancy"]["dates"]) == later["days"] > now["days"]
    # the last day of the occupancy is the stages customers are in now
    assert {s: series[-1] for s, series in later["occupancy"]["stages"].items()} == {
        s: f["at_end"] for s, f in later["stages"].items()}


def test_the_timeseries_ends_with_the_stages_now(shop: Run, runner: CliRunner) -> None:
    csv = shop.dir / "occupancy.csv"
    report = report_of(runner, shop, "--timeseries", str(csv))
    lines = csv.read_text("utf-8").splitlines()
    stages = list(report["stages"])
    assert lines[0] == ",".join(["date", *stages])
    assert len(lines) == 1 + report["days"]
    last = lines[-1].split(",")
    assert [int(n) for n in last[1:]] == [report["stages"][s]["at_end"] for s in stages]


def test_the_summary_shows_deliveries_and_rejections(shop: Run, runner: CliRunner) -> None:
    result = runner.invoke(main, ["report", str(shop.journey), "--store", shop.store])
    assert result.exit_code == 0, result.output
    for text in ("live report as of 2026-03", "Funnel", "Deliveries by status", "nudge",
                 "Uplift per split arm", '"offer" coupon',
                 "rejected events: 2", "unknown event 'bought'", "Uplift over the 20% holdout"):
        assert text in result.output
    stdout = runner.invoke(main, ["report", str(shop.journey), "--store", shop.store,
                                  "-o", "-"])
    assert json.loads(stdout.output)["customers"] == 60


def test_the_map_and_the_page_draw_the_live_report(shop: Run, runner: CliRunner) -> None:
    report_of(runner, shop)
    svg = shop.dir / "map.svg"
    result = runner.invoke(main, ["render", str(shop.journey), "--stats",
                                  str(shop.dir / "report.json"), "-o", str(svg)])
    assert result.exit_code == 0, result.output
    drawn = svg.read_text("utf-8")
    assert "lapsed" in drawn
    assert "<svg" in drawn
    assert "customers in the store" in drawn
    assert "simulated" not in drawn
    page = shop.dir / "report.html"
    result = runner.invoke(main, ["report", str(shop.journey), "--store", shop.store,
                                  "-o", str(page)])
    assert result.exit_code == 0, result.output
    html = page.read_text("utf-8")
    for text in ("Suppressed sends by reason", "Split offer", "Uplift against the holdout",
                 "<svg", "Uplift per split arm", "offer: coupon",
                 "Deliveries by status (as of 2026-03", "Rejected events",
                 "unknown event &#x27;bought&#x27;", "Customers in the store"):
        assert text in html
    assert "simulated" not in html
    assert html.rstrip().endswith("</body>\n</html>")


def test_the_lifecycle_example_on_its_event_file(tmp_path: Path, runner: CliRunner) -> None:
    run = run_into_store(runner, tmp_path, EXAMPLES / "lifecycle.journey",
                         EXAMPLES / "lifecycle.events.jsonl", "2026-06-01T00:00:00Z",
                         ["email=trace", "push=trace", "crm=trace"])
    report = report_of(runner, run)
    assert report["customers"] == len(run.state["customers"])
    reached = customers_with(run.trace, "enter", "stage")
    assert {s: f["reached"] for s, f in report["stages"].items()} == {
        s: reached[s] for s in report["stages"]}
    granted = Counter(r["bonus"] for r in actions(run.trace, "grant_bonus"))
    assert {b: f["granted"] for b, f in report["bonuses"].items()} == granted
    # the journey sends the Rendez-Vous reminder on each reminder of a bonus still held
    rendezvous = report["bonuses"]["rendezvous"]
    reminders = [r for r in run.trace if r.get("message") == "rendezvous_reminder"]
    assert rendezvous["reminded"] == len(reminders) > 0
    redeemed = {r["customer"] for r in actions(run.trace, "redeem_bonus")
                if r["bonus"] == "rendezvous"}
    lapsed = {r["customer"] for r in actions(run.trace, "grant_bonus")
              if r["bonus"] == "rendezvous"} - redeemed
    assert rendezvous["redeemed"] == len(redeemed)
    assert rendezvous["expired"] == sum(
        "rendezvous" not in run.state["customers"][c]["bonuses"] for c in lapsed) > 0
    # customers still active spend the extra time in the journey
    later = report_of(runner, run, "--at", "2026-07-01T00:00:00Z")
    assert later["customer_weeks"] > report["customer_weeks"]
    # record-only channels leave nothing in the outbox
    assert (report["deliveries"]["sent"], report["deliveries"]["dead"]) == (0, 0)
    assert report["rejected"]["count"] == len(run.state["rejected"]) == 2
    # nobody of these few customers is held out: the map still reads the report
    assert report["holdout"]["customers"]["holdout"] == 0
    result = runner.invoke(main, ["render", str(run.journey), "--stats",
                                  str(run.dir / "report.json"), "-o", str(run.dir / "m.dot")])
    assert result.exit_code == 0, result.output


def test_many_rejection_reasons_are_summed_up_in_the_terminal(tmp_path: Path,
                                                               runner: CliRunner) -> None:
    journey = tmp_path / "shop.journey"
    journey.write_text(SHOP, "utf-8")
    bad = [{"at": "2026-03-02T10:00:00Z", "customer": f"c{i}", "event": "purchased",
            "data": {"amount": f"lots {i}"}} for i in range(15)]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in [
        {"at": "2026-03-02T09:00:00Z", "customer": "c0", "event": "signed_up"}, *bad]), "utf-8")
    run = run_into_store(runner, tmp_path, journey, events, "2026-03-03T00:00:00Z",
                         ["email=trace", "push=trace"])
    result = runner.invoke(main, ["report", str(journey), "--store", run.store])
    assert result.exit_code == 0, result.output
    assert "rejected events: 15" in result.output
    assert "5 more with 5 other reasons" in result.output
    assert len(report_of(runner, run)["rejected"]["reasons"]) == 15


def test_a_store_two_journeys_share_reports_each_apart(tmp_path: Path,
                                                      runner: CliRunner) -> None:
    import journeyflow
    from journeyflow.live.service import LiveService

    versioned = SHOP.replace('journey "shop"', 'journey "shop"\nversion 3')
    shop_file = tmp_path / "shop.journey"
    shop_file.write_text(versioned, "utf-8")
    other_file = tmp_path / "other.journey"
    other_file.write_text(versioned.replace('journey "shop"', 'journey "other"'), "utf-8")
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    service = LiveService([journeyflow.load(shop_file), journeyflow.load(other_file)], store,
                          channels={"email": None, "push": None})
    try:
        for name, customers in (("shop", 3), ("other", 5)):
            for i in range(customers):
                service.engines[name].handle({"at": "2026-03-02T10:00:00Z",
                                              "customer": f"{name}{i}", "event": "signed_up"})
    finally:
        service.database.close()
    run = Run(shop_file, store, [], {}, tmp_path)
    assert report_of(runner, run)["customers"] == 3
    # the same journey, version 3, under another name (renamed): --journey reads it
    assert report_of(runner, run, "--journey", "other")["customers"] == 5
    out = fails(runner, str(shop_file), "--store", store, "--journey", "third")
    assert "'other' (5 customers), 'shop' (3 customers)" in out


# ---- errors: a message, never a traceback --------------------------------------------


def fails(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, ["report", *args])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.output


def test_a_missing_store_is_a_clear_error(shop: Run, runner: CliRunner,
                                          tmp_path: Path) -> None:
    out = fails(runner, str(shop.journey), "--store", f"sqlite:///{tmp_path / 'none.db'}")
    assert "no state store at" in out
    assert "does not exist" in out
    assert not (tmp_path / "none.db").exists()  # reading never makes one
    out = fails(runner, str(shop.journey), "--store", "memory://")
    assert "reports read postgres://, postgresql://, sqlite:// stores" in out
    garbage = tmp_path / "garbage.db"
    garbage.write_text("not a database", "utf-8")
    assert "cannot read the state store" in fails(runner, str(shop.journey), "--store",
                                                  f"sqlite:///{garbage}")


def test_a_store_of_another_journey_names_what_it_holds(shop: Run, runner: CliRunner) -> None:
    out = fails(runner, str(EXAMPLES / "lifecycle.journey"), "--store", shop.store)
    assert "has no journey 'Customer lifecycle'" in out
    assert "'shop' (60 customers)" in out
    out = fails(runner, str(EXAMPLES / "lifecycle.journey"), "--store", shop.store,
                "--journey", "shop")
    assert "customers of another version of journey 'shop'" in out


def test_another_version_of_the_journey_is_refused(shop: Run, runner: CliRunner,
                                                   tmp_path: Path) -> None:
    edited = tmp_path / "shop.journey"
    edited.write_text(SHOP.replace("limit email to 1 per 7d", "limit email to 2 per 7d"),
                      "utf-8")
    out = fails(runner, str(edited), "--store", shop.store)
    assert "another version of journey 'shop'" in out
    assert "60 on version sha256:" in out


def test_a_journey_without_customers_has_nothing_to_report(tmp_path: Path,
                                                           runner: CliRunner) -> None:
    journey = tmp_path / "shop.journey"
    journey.write_text(SHOP, "utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text('{"at": "2026-03-02T10:00:00Z", "customer": "c1", "event": "nope"}\n',
                      "utf-8")
    run = run_into_store(runner, tmp_path, journey, events, "2026-03-03T00:00:00Z",
                         ["email=trace", "push=trace"])
    assert "journey 'shop' has no customers in the state store" in fails(
        runner, str(journey), "--store", run.store)


def test_an_instant_before_the_store_is_refused(shop: Run, runner: CliRunner) -> None:
    out = fails(runner, str(shop.journey), "--store", shop.store, "--at", "2026-03-01")
    assert "is before the store's latest step" in out
    assert "--at" in fails(runner, str(shop.journey), "--store", shop.store, "--at", "soon")
