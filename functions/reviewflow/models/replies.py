"""What the publish gate works with: bands, reply-policy violations, the checked reply.

The gate's step input (``ReplyCheckRequest``) is in ``models/steps.py`` with the other step inputs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reviewflow.models.events import ToxicityBand, ToxicityScore

Verdict = Literal["publish", "ask_person", "refuse"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Bands(BaseModel):
    """The toxicity thresholds in force for one execution; both ends of the uncertain band inclusive.

    Read from the workflow's ``$.settings``, which also holds the approval timeout: extra keys are
    ignored.
    """

    model_config = ConfigDict(extra="ignore")

    low: float = Field(ge=0.0, le=1.0)
    high: float = Field(ge=0.0, le=1.0)


class PolicyViolation(_Strict):
    rule: str
    description: str
    overridable: bool


class ReplyCheck(_Strict):
    """One reply text as the gate checked it, and what may happen to it."""

    text: str
    toxicity: ToxicityScore
    band: ToxicityBand
    violations: list[PolicyViolation] = Field(default_factory=list)
    policy_version: str
    verdict: Verdict
    reason: str | None = None  # a FailureReason value when the verdict is "refuse"
    overridden: list[str] = Field(default_factory=list)
    rescored: bool = False
    # Why a person must look besides the band and the rules (e.g. the draft is not in the review's
    # language).
    note: str | None = None
