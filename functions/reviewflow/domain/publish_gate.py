"""The publish gate: no reply reaches the bus unless the exact text published was checked.

Two checks, both in the execution that publishes:

- ``check_draft`` (state ``CheckDraftReply``) scores the generated draft with the toxicity
  provider and the execution's bands, and checks it against the reply policy. Harmful drafts are
  refused; uncertain or unscorable ones, and drafts that break a rule, go to a person.
- ``check_for_publish`` (state ``PublishGate``, the one state every published reply passes) takes
  the text that would be published — the draft, or a person's edit — and checks it again. A text
  identical to the checked draft keeps the draft's score (no second provider call); any other
  text is scored anew. It refuses a harmful text whoever approved it, a text that needed a person
  and has none (the draft check asked for a person, or the text is not clean), and a rule broken
  without a person's recorded reason (or a rule no one may override). A draft that is not in the
  review's language (a writer that says so, like the offline template responder) goes to a person.
  What a person published over is listed in ``overridden``.

The same rules decide an edit on the approval page (``check_edit``), so the reviewer hears at
once what the workflow would refuse; the workflow still checks, because a task token may be
resumed by something other than the page.
"""

from __future__ import annotations

from reviewflow.domain.ports import ToxicityProvider
from reviewflow.domain.reply_policy import ReplyContext, ReplyPolicy
from reviewflow.models.events import Decision, FailureReason, ReviewPosted, Stage, ToxicityBand, ToxicityScore
from reviewflow.models.replies import Bands, PolicyViolation, ReplyCheck
from reviewflow.models.steps import GeneratedResponse, ReplyCheckRequest, TaskDecision


def band_of(score: ToxicityScore, bands: Bands) -> ToxicityBand:
    """The band of a score; the same rule as the workflow's Choice states (both ends inclusive)."""
    if not score.scorable or score.score is None:
        return "unscorable"
    if score.score > bands.high:
        return "harmful"
    if score.score >= bands.low or score.needs_person:
        return "uncertain"
    return "safe"


def context_of(review: ReviewPosted, review_toxicity: ToxicityScore, bands: Bands) -> ReplyContext:
    """A review a person let through (not in the safe band) must not be quoted back."""
    return ReplyContext(
        review_text=review.review_text, review_flagged=band_of(review_toxicity, bands) != "safe"
    )


def check_draft(request: ReplyCheckRequest, *, provider: ToxicityProvider, policy: ReplyPolicy) -> ReplyCheck:
    text = request.response.response_text
    toxicity = provider.score(text, request.review.language)
    band = band_of(toxicity, request.bands)
    violations = policy.check(text, context_of(request.review, request.review_toxicity, request.bands))
    checked = ReplyCheck(
        text=text,
        toxicity=toxicity,
        band=band,
        violations=violations,
        policy_version=policy.version,
        verdict="publish",
    )
    if band == "harmful":
        return checked.model_copy(update={"verdict": "refuse", "reason": FailureReason.RESPONSE_TOXIC.value})
    written_in = request.response.language
    if written_in is not None and written_in != request.review.language:
        note = f"the draft is written in {written_in!r}, the review in {request.review.language!r}"
        return checked.model_copy(update={"verdict": "ask_person", "note": note})
    if band != "safe" or violations:
        return checked.model_copy(update={"verdict": "ask_person"})
    return checked


def text_to_publish(draft: GeneratedResponse, decision: TaskDecision | None) -> str:
    """The draft, or the edit a person approved with it."""
    if decision is not None and decision.response_edited and decision.edited_response_text:
        return decision.edited_response_text
    return draft.response_text


def check_for_publish(
    request: ReplyCheckRequest, *, provider: ToxicityProvider, policy: ReplyPolicy
) -> ReplyCheck:
    draft_check = request.draft_check
    if draft_check is None:  # the request model refuses this already; kept for the type checker
        raise ValueError("publish mode needs the draft check")
    decision = request.decision
    approved = (
        decision is not None and decision.stage is Stage.RESPONSE and decision.decision is Decision.APPROVED
    )
    text = text_to_publish(request.response, decision if approved else None)
    if draft_check.verdict == "ask_person" and not approved:
        # The draft check asked for a person and none approved: nothing is published, whatever the
        # text would score now (a forged or mistaken resumption).
        return draft_check.model_copy(
            update={"verdict": "refuse", "reason": FailureReason.RESPONSE_UNREVIEWED.value, "rescored": False}
        )
    return judge(
        text,
        review=request.review,
        review_toxicity=request.review_toxicity,
        bands=request.bands,
        provider=provider,
        policy=policy,
        scored=(draft_check.text, draft_check.toxicity),
        approved_by_person=approved,
        override_reason=decision.policy_override_reason if approved and decision else None,
    )


def judge(
    text: str,
    *,
    review: ReviewPosted,
    review_toxicity: ToxicityScore,
    bands: Bands,
    provider: ToxicityProvider,
    policy: ReplyPolicy,
    scored: tuple[str, ToxicityScore] | None,
    approved_by_person: bool,
    override_reason: str | None,
) -> ReplyCheck:
    """Whether ``text`` may be published now.

    ``scored`` is a text this execution already scored, with its score: reused only for exactly
    that text. The policy is always checked (it is cheap and its version may have changed).
    """
    if scored is not None and scored[0] == text:
        toxicity, rescored = scored[1], False
    else:
        toxicity, rescored = provider.score(text, review.language), True
    band = band_of(toxicity, bands)
    violations = policy.check(text, context_of(review, review_toxicity, bands))
    checked = ReplyCheck(
        text=text,
        toxicity=toxicity,
        band=band,
        violations=violations,
        policy_version=policy.version,
        verdict="publish",
        rescored=rescored,
    )
    refusal = _refusal(
        band, violations, approved_by_person=approved_by_person, override_reason=override_reason
    )
    if refusal is not None:
        return checked.model_copy(update={"verdict": "refuse", "reason": refusal.value})
    overridden = [f"toxicity_{band}"] if band != "safe" else []
    overridden += [violation.rule for violation in violations]
    return checked.model_copy(update={"overridden": overridden})


def _refusal(
    band: ToxicityBand,
    violations: list[PolicyViolation],
    *,
    approved_by_person: bool,
    override_reason: str | None,
) -> FailureReason | None:
    if band == "harmful":
        return FailureReason.RESPONSE_TOXIC  # never published, whoever approved it
    if not approved_by_person:
        # Only a checked, clean draft reaches the gate without a person; anything else is a bug
        # or a forged resumption, and is refused rather than published.
        return FailureReason.RESPONSE_UNREVIEWED if band != "safe" or violations else None
    if any(not violation.overridable for violation in violations):
        return FailureReason.RESPONSE_POLICY_VIOLATION
    if violations and not (override_reason or "").strip():
        return FailureReason.RESPONSE_POLICY_VIOLATION
    return None


def check_edit(
    text: str,
    *,
    snapshot_text: str,
    snapshot_toxicity: ToxicityScore,
    review: ReviewPosted,
    review_toxicity: ToxicityScore,
    bands: Bands,
    provider: ToxicityProvider,
    policy: ReplyPolicy,
    override_reason: str | None,
) -> ReplyCheck:
    """What the workflow's gate would say of a reply a person is approving on the page."""
    return judge(
        text,
        review=review,
        review_toxicity=review_toxicity,
        bands=bands,
        provider=provider,
        policy=policy,
        scored=(snapshot_text, snapshot_toxicity),
        approved_by_person=True,
        override_reason=override_reason,
    )
