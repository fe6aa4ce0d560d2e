"""Toxicity from Amazon Bedrock Guardrails ``ApplyGuardrail``: a second AWS adapter of ``ToxicityProvider``.

``ApplyGuardrail`` runs a guardrail's content filters over a text without invoking a model. The
guardrail (id and version from the settings) has filters for HATE, INSULTS, SEXUAL, VIOLENCE and
MISCONDUCT, each reported with a ``confidence`` (NONE, LOW, MEDIUM, HIGH), the configured
``filterStrength`` and an ``action`` (BLOCKED when that strength blocks that confidence), plus a
PROMPT_ATTACK filter that applies to input only.

How a finding becomes the pipeline's 0-1 score (docs/languages.md, "Guardrails scores"): the
confidence picks a point inside one band of the default thresholds (0.4 / 0.6), and a finding the
configured strength blocks is at least uncertain, so the strength decides how cautious the
pipeline is while the confidence still decides what is harmful:

=========== ============ ===================== ============================
confidence  score        band (0.4 / 0.6)      blocked by the strength
=========== ============ ===================== ============================
NONE        0.00         safe                  (never blocked)
LOW         0.20         safe                  0.45: a person decides
MEDIUM      0.50         a person decides      0.50
HIGH        0.90         harmful               0.90
=========== ============ ===================== ============================

Each filter type is a label; the text's score is the maximum over labels. A PROMPT_ATTACK
finding on a review is not a score: it is listed in ``findings`` and sets ``needs_person``, so
the review goes to a person rather than straight to an automatic reply, and is not called
harmful for it. An existing guardrail may also have denied topics, word filters or sensitive-
information filters: a block by any of them is listed in ``findings`` (``DENIED_TOPIC``,
``WORD_FILTER``, ...) and sends the text, review or reply, to a person; they carry no confidence,
so they do not move the score. Reviews are sent as ``source: INPUT`` (the filters' input strengths and the
prompt-attack filter), replies as ``source: OUTPUT`` (``for_replies``). The request asks for
``outputScope: FULL`` so that findings the strength does not block are reported too.

Languages: the guardrail's tier decides them (``LANGUAGES_BY_TIER``); text in any other language
comes back unscorable without a call, because a guardrail does not refuse a language it cannot
read, it just finds nothing. A response that evaluated fewer characters than it was given
(``guardrailCoverage``) is unscorable too: part of the text was not checked. The policy units
billed (``usage``) are recorded on the result.

Errors become the typed errors the workflow's Retry/Catch match on (``aws_errors.translate``):
throttling is retried with backoff, server faults are retried as timeouts, a missing guardrail or
grant is a configuration error, anything else fails the task without a retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from reviewflow.domain.toxicity import SegmentMaxima, unscorable, unsupported_language
from reviewflow.errors import ProviderError
from reviewflow.models.events import ToxicityScore
from reviewflow.providers.aws_errors import ErrorCodes, translate

SERVICE = "Bedrock Guardrails"
Source = Literal["INPUT", "OUTPUT"]
Tier = Literal["STANDARD", "CLASSIC"]

#: Content-filter and prompt-attack languages per safeguard tier, as ISO 639-1 codes (the Bedrock
#: user guide, "Languages supported by Amazon Bedrock Guardrails"; Filipino has no two-letter code
#: and is covered as Tagalog, ``tl``).
LANGUAGES_BY_TIER: dict[str, frozenset[str]] = {
    "CLASSIC": frozenset({"en", "es", "fr"}),
    "STANDARD": frozenset(
        """
        af sq ar hy az be bg ca zh hr cs da nl en et tl fi fr ka de el gu he hi hu id it ja kn ko lv
        lt mk ms ml mr ne no nb nn fa pl pt ro ru sr sk sl es sv te th tr uk uz vi
        """.split()
    ),
}

#: The content filters scored as labels (PROMPT_ATTACK is a finding, not a label).
CONTENT_FILTERS = ("HATE", "INSULTS", "MISCONDUCT", "SEXUAL", "VIOLENCE")
PROMPT_ATTACK = "PROMPT_ATTACK"
#: Policies an existing guardrail may have besides content filters (the stack's guardrail has none):
#: assessment key -> (its item lists, the finding a block by one of them is reported as).
OTHER_POLICIES: dict[str, tuple[tuple[str, ...], str]] = {
    "topicPolicy": (("topics",), "DENIED_TOPIC"),
    "wordPolicy": (("customWords", "managedWordLists"), "WORD_FILTER"),
    "sensitiveInformationPolicy": (("piiEntities", "regexes"), "SENSITIVE_INFORMATION"),
    "contextualGroundingPolicy": (("filters",), "CONTEXTUAL_GROUNDING"),
}

CONFIDENCE_SCORES: dict[str, float] = {"NONE": 0.0, "LOW": 0.2, "MEDIUM": 0.5, "HIGH": 0.9}
#: A finding the configured strength blocks scores at least this: inside the default uncertain band.
BLOCKED_FLOOR = 0.45

ERROR_CODES = ErrorCodes(
    throttling=frozenset({"ThrottlingException", "ServiceQuotaExceededException"}),
    transient=frozenset({"InternalServerException", "ServiceUnavailableException"}),
    misconfigured=frozenset({"ResourceNotFoundException", "AccessDeniedException"}),
    check="the guardrail id and version, and the function's bedrock:ApplyGuardrail grant",
)

_USAGE_KEYS = (
    "contentPolicyUnits",
    "topicPolicyUnits",
    "wordPolicyUnits",
    "sensitiveInformationPolicyUnits",
    "contextualGroundingPolicyUnits",
)


def finding_score(confidence: str, blocked: bool) -> float:
    """The score of one content-filter finding (the table in the module docstring)."""
    if confidence not in CONFIDENCE_SCORES:
        raise ProviderError(f"{SERVICE} returned an unknown filter confidence")
    score = CONFIDENCE_SCORES[confidence]
    return max(score, BLOCKED_FLOOR) if blocked and confidence != "NONE" else score


class GuardrailsToxicity:
    """``ToxicityProvider`` backed by a boto3 ``bedrock-runtime`` client (built by the registry)."""

    name = "guardrails"

    def __init__(
        self,
        client: Any,
        *,
        guardrail_id: str,
        guardrail_version: str,
        tier: Tier = "STANDARD",
        source: Source = "INPUT",
    ) -> None:
        if not guardrail_id or not guardrail_version:
            raise ProviderError("the Guardrails provider needs a guardrail id and version")
        self._client = client
        self._guardrail = (guardrail_id, guardrail_version)
        self.tier: Tier = tier
        self.source: Source = source
        self.supported_languages = LANGUAGES_BY_TIER[tier]
        self._replies: GuardrailsToxicity | None = None

    def for_replies(self) -> GuardrailsToxicity:
        """The same guardrail applied as ``OUTPUT``: what a generated or edited reply is checked with."""
        if self.source == "OUTPUT":
            return self
        if self._replies is None:
            self._replies = GuardrailsToxicity(
                self._client,
                guardrail_id=self._guardrail[0],
                guardrail_version=self._guardrail[1],
                tier=self.tier,
                source="OUTPUT",
            )
        return self._replies

    def score(self, text: str, language: str) -> ToxicityScore:
        if language not in self.supported_languages:
            return unsupported_language(self.name, language, f"{SERVICE} ({self.tier.lower()} tier)")
        if not text.strip():
            return unscorable(self.name, "the text has no characters to score")
        response = self._apply(text)
        units = _billed_units(response)
        coverage = (response.get("guardrailCoverage") or {}).get("textCharacters") or {}
        guarded, total = coverage.get("guarded"), coverage.get("total")
        if guarded is not None and total is not None and guarded < total:
            return unscorable(
                self.name, f"the guardrail evaluated {guarded} of {total} characters", segments=1, calls=1
            ).model_copy(update={"billed_units": units})
        labels, findings = _assessed(response.get("assessments") or [])
        maxima = SegmentMaxima()
        maxima.add(max(labels.values(), default=0.0), labels)
        result = maxima.result(self.name, calls=1)
        update: dict[str, Any] = {"billed_units": units, "findings": findings}
        blocked_elsewhere = sorted(set(findings) & {finding for _, finding in OTHER_POLICIES.values()})
        if PROMPT_ATTACK in findings and self.source == "INPUT":
            update["needs_person"] = True
            update["note"] = "the guardrail found a prompt attack: a person decides"
        elif blocked_elsewhere:
            update["needs_person"] = True
            update["note"] = f"the guardrail blocked it ({', '.join(blocked_elsewhere)}): a person decides"
        return result.model_copy(update=update)

    def _apply(self, text: str) -> Mapping[str, Any]:
        guardrail_id, version = self._guardrail
        try:
            return self._client.apply_guardrail(  # type: ignore[no-any-return]
                guardrailIdentifier=guardrail_id,
                guardrailVersion=version,
                source=self.source,
                content=[{"text": {"text": text}}],
                outputScope="FULL",
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, f"{SERVICE} ApplyGuardrail", ERROR_CODES, ProviderError) from exc


def _assessed(assessments: list[Mapping[str, Any]]) -> tuple[dict[str, float], list[str]]:
    """Label scores (every content filter, 0 unless found) and the filter types found."""
    labels = dict.fromkeys(CONTENT_FILTERS, 0.0)
    findings: set[str] = set()
    for assessment in assessments:
        for item in (assessment.get("contentPolicy") or {}).get("filters") or []:
            kind, confidence = item.get("type"), item.get("confidence")
            if kind is None or confidence is None:
                raise ProviderError(f"{SERVICE} returned a content filter without a type or confidence")
            blocked = item.get("action") == "BLOCKED"
            detected = item.get("detected", blocked or confidence != "NONE")
            if kind == PROMPT_ATTACK:
                if detected and (blocked or confidence in ("MEDIUM", "HIGH")):
                    findings.add(PROMPT_ATTACK)
                continue
            score = finding_score(confidence, blocked)
            labels[kind] = max(labels.get(kind, 0.0), score)
            if detected and score > 0:
                findings.add(kind)
        for policy, (lists, finding) in OTHER_POLICIES.items():
            section = assessment.get(policy) or {}
            # Only the action is read: the items' ``match`` fields quote the text.
            if any(item.get("action") == "BLOCKED" for name in lists for item in section.get(name) or []):
                findings.add(finding)
    return labels, sorted(findings)


def _billed_units(response: Mapping[str, Any]) -> dict[str, int]:
    usage = response.get("usage") or {}
    return {key: int(usage[key]) for key in _USAGE_KEYS if usage.get(key)}
