"""ScoreReviewToxicity / ScoreResponseToxicity: one function scores the review and the reply.

Input ``ToxicityRequest`` (text, language, stage); output ``ToxicityScore``. Throttling and
timeouts surface as ``ProviderThrottledError`` / ``ProviderTimeoutError`` for the workflow to
retry; unscorable text comes back as a result (``scorable: false``), not an error.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from reviewflow.domain.toxicity import score_toxicity
from reviewflow.errors import InvalidInputError
from reviewflow.models.events import describe_errors
from reviewflow.models.steps import ToxicityRequest
from reviewflow.observability import lambda_entry


def parse_request(event: Any) -> ToxicityRequest:
    """The request, or ``InvalidInputError`` naming the bad fields without echoing their values."""
    try:
        return ToxicityRequest.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(f"{error.field}: {error.message}" for error in describe_errors(exc))
        raise InvalidInputError(f"invalid toxicity request: {problems}") from None


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return score_toxicity(parse_request(event)).model_dump(mode="json")
