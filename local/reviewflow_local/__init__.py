"""The local runtime: the synthesized stack, deployed into moto, run offline.

- ``synth``: the cloud assembly ``python app.py`` makes, cached;
- ``deployment``: that template deployed into moto, and what it created found by role;
- ``pipeline``: ``LocalPipeline``, the running pipeline the CLI, soak, benchmarks and tests drive;
- ``outcome_tap``, ``outbox``, ``lambda_runner``, ``http_front``, ``moto_patches``, ``faults``:
  the plumbing that observes it, runs its handlers in-process and fills moto's gaps;
- ``reviewer`` and ``decider``: approvals decided through the emailed links, as in a browser;
- ``cli``, ``commands``, ``console``: ``reviewflow run|serve|soak``; ``soak``, ``soak_reviews``,
  ``soak_report``: the conservation check.
"""
