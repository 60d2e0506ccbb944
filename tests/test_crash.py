"""Nothing lost: a short kill storm (benchmarks/crash_harness.py: the long one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crashkit import kill_storm, paused_writer, reindex_while_watching

pytestmark = [pytest.mark.needs_tesseract, pytest.mark.slow]


def test_sigkill_at_random_moments_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path,
) -> None:
    report = kill_storm(tmp_path, kills=8, docs=13, seed=5, uptime=(0.3, 3.5), drain_timeout=120)
    summary = "\n".join(report.lines())
    assert not report.problems, summary
    assert report.kills == 8
    assert report.missing == 0 and report.waiting == 0, summary
    assert report.inputs == (
        report.filed + report.review + report.quarantined + report.duplicates
    ), summary
    assert report.quarantined == 1, summary  # the junk file among the inputs
    assert report.duplicates >= 1, summary  # the same bytes dropped under a second name
    assert report.index_lag_before_reindex == 0, summary


def test_a_writer_pausing_mid_file_on_a_polled_share_gets_every_page_stored(
    tmp_path: Path,
) -> None:
    report = paused_writer(tmp_path, pause=5.0, stable=8.0, files=1)
    summary = "\n".join(report.lines())
    assert not report.problems, summary
    assert report.inputs == 1 and report.filed + report.review == 1, summary


def test_reindex_while_the_daemon_indexes_drops_nothing(tmp_path: Path) -> None:
    report = reindex_while_watching(tmp_path, docs=12, rebuilds=3)
    summary = "\n".join(report.lines())
    assert not report.problems, summary
    assert report.index_lag_before_reindex == 0, summary
