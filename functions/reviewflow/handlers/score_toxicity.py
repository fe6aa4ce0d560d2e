"""ScoreReviewToxicity / ScoreResponseToxicity: one function scores the review and the reply.

Input ``ToxicityRequest`` (text, language, stage); output ``ToxicityScore``. Throttling and
timeouts surface as ``ProviderThrottledError`` / ``ProviderTimeoutError`` for the workflow to
retry; unscorable text comes back as a result (``scorable: false``), not an error.
"""

from __future__ import annotations

from typing import Any

from reviewflow.domain.toxicity import score_toxicity
from reviewflow.models.steps import ToxicityRequest, parse_step_input
from reviewflow.observability import lambda_entry
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_step_input(ToxicityRequest, event, subject="toxicity request")
    return score_toxicity(request, provider=registry.toxicity_provider()).model_dump(mode="json")
