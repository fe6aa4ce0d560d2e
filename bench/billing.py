"""How AWS bills what a review uses: Comprehend units, Guardrails text units, Lambda duration and
GB-seconds, a path mix.

Pure arithmetic on numbers the rest of the cost model counts; the prices themselves are in
``bench/pricing.json``.
"""

from __future__ import annotations

import math

#: Lambda gives a function one full vCPU at 1,769 MB and a proportional share below that.
FULL_VCPU_MB = 1769


def comprehend_units(text: str, *, chars_per_unit: int = 100, minimum_units: int = 3) -> tuple[int, int]:
    """(requests, billed units) for scoring ``text`` the way the Comprehend adapter sends it.

    One request per batch of at most 10 segments; each request is billed per started unit of
    ``chars_per_unit`` characters of its segments, with ``minimum_units`` per request.
    """
    from reviewflow.domain.segmentation import batch_segments, split_segments

    batches = batch_segments(split_segments(text))
    units = 0
    for batch in batches:
        characters = sum(len(segment) for segment in batch)
        units += max(minimum_units, math.ceil(characters / chars_per_unit))
    return len(batches), units


def guardrail_text_units(text_chars: int, *, chars_per_unit: int = 1000) -> int:
    """Text units ``ApplyGuardrail`` bills for one text (one request): per started 1,000 characters."""
    return max(1, math.ceil(text_chars / chars_per_unit))


def billed_ms(cpu_ms: float, service_ms: float, memory_mb: int, granularity_ms: int = 1) -> int:
    """Lambda's billed duration: CPU work slowed to the memory's vCPU share, plus waiting."""
    scale = max(1.0, FULL_VCPU_MB / memory_mb)
    raw = cpu_ms * scale + service_ms
    return int(math.ceil(raw / granularity_ms) * granularity_ms)


def gb_seconds(duration_ms: float, memory_mb: int) -> float:
    return memory_mb / 1024 * duration_ms / 1000


def mix_cost(path_costs: dict[str, dict[str, float]], mix: dict[str, float]) -> dict[str, float]:
    """Cost per review for the mix, line by line (weights must sum to 1)."""
    total = sum(mix.values())
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise ValueError(f"path mix weights sum to {total}, not 1")
    lines: dict[str, float] = {}
    for path, weight in mix.items():
        for line, cost in path_costs[path].items():
            lines[line] = lines.get(line, 0.0) + weight * cost
    return lines
