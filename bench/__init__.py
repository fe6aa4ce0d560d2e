"""Benchmarks and the cost model: ``python -m bench`` (``make bench``); see docs/performance.md."""
