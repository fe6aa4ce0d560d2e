"""The evaluation suite's domain: the golden set (``dataset``) and how replies to it are judged.

The suite runs the reply chain over a golden set of reviews and judges each reply against the
case's rules, the reply policy, the expected route, the language and the length. The records it
reads and writes live in ``reviewflow.models.evaluation``; the data and its documentation in
``evals/``.
"""
