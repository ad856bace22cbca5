"""journeyflow report on a PostgreSQL store: the report the same run gives on SQLite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from journeyflow.cli import main
from tests.live.test_report import SHOP, shop_events
from tests.peers import free_port, http_hook_running


def run_and_report(runner: CliRunner, tmp: Path, store: str, channels: list[str]
                   ) -> dict[str, Any]:
    journey = tmp / "shop.journey"
    args = ["run", str(journey), "--events", str(tmp / "events.jsonl"), "--until",
            "2026-03-20T00:00:00Z", "--store", store, "--state", str(tmp / "state.json")]
    for channel in channels:
        args += ["--channel", channel]
    done = runner.invoke(main, args)
    assert done.exit_code == 0, done.output
    out = tmp / "report.json"
    done = runner.invoke(main, ["report", str(journey), "--store", store, "-o", str(out)])
    assert done.exit_code == 0, done.output
    report: dict[str, Any] = json.loads(out.read_text("utf-8"))
    return report


def test_a_postgresql_store_reports_what_sqlite_reports(tmp_path: Path, pg_url: str) -> None:
    (tmp_path / "shop.journey").write_text(SHOP, "utf-8")
    (tmp_path / "events.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in shop_events()), "utf-8")
    runner = CliRunner()
    with http_hook_running() as (_, url):
        channels = [f"email={url}",
                    f"push=http://127.0.0.1:{free_port()}/?attempts=2&backoff=0"]
        on_sqlite = run_and_report(runner, tmp_path, f"sqlite:///{tmp_path / 's.db'}",
                                   channels)
        on_postgres = run_and_report(runner, tmp_path, pg_url, channels)
    assert on_postgres["customers"] == 60
    assert on_postgres["deliveries"] == on_sqlite["deliveries"]
    assert on_postgres == on_sqlite


def test_a_database_without_a_store_is_a_clear_error(tmp_path: Path, pg_url: str) -> None:
    journey = tmp_path / "shop.journey"
    journey.write_text(SHOP, "utf-8")
    done = CliRunner().invoke(main, ["report", str(journey), "--store", pg_url])
    assert done.exit_code != 0
    assert "holds no journeyflow state store" in done.output
    assert "Traceback" not in done.output
