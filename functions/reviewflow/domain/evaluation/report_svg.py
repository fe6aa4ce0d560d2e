"""The pass rates of an evaluation as a dependency-free SVG bar chart.

One bar per candidate (the pass rate over all cases) with a whisker for its 95 % Wilson interval,
on a 0 to 100 % axis. Plain SVG text built with the standard library (the Lambda asset has no
plotting library), every coordinate formatted to one decimal, so the same report gives the same
bytes. Candidate names are escaped and shortened on the axis (start and end around an ellipsis);
the full name is in the bar's tooltip.
"""

from __future__ import annotations

from html import escape

from reviewflow.models.evaluation_report import CandidateReport, EvaluationReport

SLOT = 120.0  # horizontal room per candidate
LEFT, RIGHT, TOP, BOTTOM = 64.0, 24.0, 60.0, 56.0
MIN_WIDTH = 480.0  # room for the title
PLOT_HEIGHT = 240.0
BAR_FILL = "#4e79a7"
WHISKER = "#1f2933"
GRID = "#d0d7de"
MUTED = "#57606a"
MAX_LABEL = 14


def _n(value: float) -> str:
    return f"{value:.1f}"


def _y(rate: float) -> float:
    return TOP + PLOT_HEIGHT * (1 - min(max(rate, 0.0), 1.0))


def _label(name: str) -> str:
    """The name, or its start and end around an ellipsis (names often differ only at the end)."""
    if len(name) <= MAX_LABEL:
        return name
    head = (MAX_LABEL - 1) // 2
    return name[:head] + "\u2026" + name[-(MAX_LABEL - 1 - head) :]


def _axis(width: float) -> list[str]:
    lines = []
    for percent in (0, 25, 50, 75, 100):
        y = _n(_y(percent / 100))
        lines.append(f'<line x1="{_n(LEFT)}" y1="{y}" x2="{_n(width - RIGHT)}" y2="{y}" stroke="{GRID}"/>')
        lines.append(
            f'<text x="{_n(LEFT - 8)}" y="{y}" text-anchor="end" dominant-baseline="middle">{percent}%</text>'
        )
    return lines


def _whisker(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{WHISKER}" stroke-width="2"/>'
    )


def _text(x: float, y: float, text: str, extra: str = "") -> str:
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="middle"{extra}>{escape(text)}</text>'


def _bar(x: float, section: CandidateReport) -> list[str]:
    rate = section.pass_rate
    centre = x + SLOT / 2
    bar_width = SLOT * 0.6
    top, bottom = _y(rate.rate), _y(0.0)
    low, high = _y(rate.ci_low), _y(rate.ci_high)
    name = section.candidate.name
    title = (
        f"{name}: {rate.rate:.1%} ({rate.passed}/{rate.total}), 95% CI {rate.ci_low:.1%}-{rate.ci_high:.1%}"
    )
    return [
        f"<g><title>{escape(title)}</title>",
        f'<rect x="{_n(centre - bar_width / 2)}" y="{_n(top)}" width="{_n(bar_width)}" '
        f'height="{_n(bottom - top)}" fill="{BAR_FILL}"/>',
        _whisker(centre, low, centre, high),
        _whisker(centre - 10, low, centre + 10, low),
        _whisker(centre - 10, high, centre + 10, high),
        _text(centre, high - 8, f"{rate.rate:.1%}"),
        _text(centre, bottom + 20, _label(name)),
        _text(centre, bottom + 36, f"n={rate.total}", f' fill="{MUTED}"'),
        "</g>",
    ]


def to_svg(report: EvaluationReport) -> str:
    """The pass-rate chart of ``report`` as a standalone SVG document."""
    count = max(len(report.candidates), 1)
    width = max(LEFT + SLOT * count + RIGHT, MIN_WIDTH)
    height = TOP + PLOT_HEIGHT + BOTTOM
    title = "Pass rate per candidate, with its 95% Wilson interval"
    subtitle = f"{report.evaluation_id}, judge {report.judge}"
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" font-family="sans-serif" font-size="12" '
        f'role="img" aria-label="{escape(f"{title} ({subtitle})")}">',
        f'<rect width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
        f'<text x="16" y="22" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<text x="16" y="40" fill="{MUTED}">{escape(subtitle)}</text>',
        *_axis(width),
    ]
    start = LEFT + (width - LEFT - RIGHT - SLOT * len(report.candidates)) / 2  # bars centred
    for index, section in enumerate(report.candidates):
        lines += _bar(start + index * SLOT, section)
    if not report.candidates:
        lines.append(f'<text x="{_n(LEFT + 8)}" y="{_n(TOP + PLOT_HEIGHT / 2)}">no candidates</text>')
    lines.append("</svg>")
    return "\n".join(lines) + "\n"
