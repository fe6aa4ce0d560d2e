"""The soak benchmark's summaries: medians, paired ratios, flatness, memory growth, verdicts."""

from __future__ import annotations

from typing import Any

import pytest

from bench import soak_speed


def sample(mode: str, reviews: int, seconds: float, peak: float, cpu: float | None = None) -> dict[str, Any]:
    return {
        "mode": mode,
        "reviews": reviews,
        "seconds": seconds,
        "cpu_seconds": cpu if cpu is not None else seconds,
        "peak_rss_mb": peak,
        "start_seconds": 2.0,
        "warmup_seconds": 1.0,
        "lost": 0,
        "duplicated": 0,
    }


def test_one_size_takes_medians_and_ratios_within_each_pair() -> None:
    row = soak_speed.summarise_size(
        {
            "on": [sample("on", 100, 10.0, 400), sample("on", 100, 8.0, 410), sample("on", 100, 20.0, 420)],
            "off": [
                sample("off", 100, 40.0, 500),
                sample("off", 100, 40.0, 520),
                sample("off", 100, 40.0, 510),
            ],
        }
    )
    assert row["runs"] == 3
    assert row["on"]["median_seconds"] == 10.0
    assert row["on"]["reviews_per_second"] == pytest.approx(10.0)
    assert row["on"]["ms_per_review"] == pytest.approx(100.0)
    assert row["on"]["peak_rss_mb"] == 410
    assert row["off"]["reviews_per_second"] == pytest.approx(2.5)
    # Ratios pair run i with run i (same minute): 4, 5 and 2; their median, not a ratio of medians.
    assert row["speedup_ratios"] == [4.0, 5.0, 2.0]
    assert row["speedup_median"] == 4.0
    assert row["memory_ratios"] == pytest.approx([0.8, 410 / 520, 420 / 510])


def test_a_size_measured_with_the_speedups_only_has_no_ratio() -> None:
    row = soak_speed.summarise_size({"on": [sample("on", 10, 1.0, 380)]})
    assert "speedup_median" not in row and row["on"]["reviews_per_second"] == 10.0


def _result() -> dict[str, Any]:
    return soak_speed.summarise(
        {
            10: {"on": [sample("on", 10, 1.0, 380)], "off": [sample("off", 10, 5.0, 390)]},
            100: {"on": [sample("on", 100, 8.0, 400)], "off": [sample("off", 100, 50.0, 450)]},
            1000: {"on": [sample("on", 1000, 90.0, 440)], "off": [sample("off", 1000, 600.0, 900)]},
        }
    )


def test_flatness_is_per_review_time_against_the_smallest_size() -> None:
    result = _result()
    assert result["flatness_on"] == pytest.approx({"10": 1.0, "100": 0.8, "1000": 0.9})
    assert result["flatness_off"] == pytest.approx({"10": 1.0, "100": 1.0, "1000": 1.2})


def test_memory_growth_compares_the_largest_size_with_the_next() -> None:
    assert _result()["memory_growth_on"] == pytest.approx(1.1)
    only = soak_speed.summarise({10: {"on": [sample("on", 10, 1.0, 380)]}})
    assert only["memory_growth_on"] is None


def test_verdicts_state_each_bound_with_its_figure() -> None:
    assert _result()["verdicts"] == [
        "N=10: 10.0 reviews/s with the speed-ups (target >= 10: met)",
        "N=100: 12.5 reviews/s with the speed-ups (target >= 10: met)",
        "N=1000: 11.1 reviews/s with the speed-ups (target >= 10: met)",
        "peak RSS at N=1000 is 1.10x N=100's (bound 1.2x: met)",
    ]
    slow = soak_speed.summarise(
        {
            100: {"on": [sample("on", 100, 20.0, 400)]},
            1000: {"on": [sample("on", 1000, 200.0, 600)]},
        }
    )
    assert slow["verdicts"] == [
        "N=100: 5.0 reviews/s with the speed-ups (target >= 10: NOT met)",
        "N=1000: 5.0 reviews/s with the speed-ups (target >= 10: NOT met)",
        "peak RSS at N=1000 is 1.50x N=100's (bound 1.2x: NOT met)",
    ]


def test_the_table_has_a_row_per_size_in_order() -> None:
    text = soak_speed.render(_result())
    rows = [line for line in text.splitlines() if line.startswith("| ") and "runs" not in line]
    assert [row.split("|")[1].strip() for row in rows] == ["10", "100", "1,000"]
    assert "6.67" in rows[2]  # 600 s off / 90 s on at N = 1,000
