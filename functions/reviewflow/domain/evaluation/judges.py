"""Which judge runs, how judges combine, and when a case passes.

An evaluation names its judge (``EvaluationRequest.judge``): ``rule`` is the deterministic rule
judge alone; ``llm`` is the rule judge *and* the LLM judge (``CombinedJudge``): routing and the
checkable rules stay deterministic, and the model adds the criteria only a reader can judge
(follows the rules, matches the reference's intent, tone, language). The verdicts are simply
concatenated — rule verdicts first — and each keeps the judge that gave it, so a report can tell
the rule's ``language`` from the model's. A case passes when it has verdicts and every one
passes, whichever judge gave it.
"""

from __future__ import annotations

from collections.abc import Sequence

from reviewflow.domain.evaluation.llm_judge import LlmJudge
from reviewflow.domain.evaluation.rule_judge import RuleJudge
from reviewflow.domain.ports import ChatModel, ReplyJudge
from reviewflow.domain.prompts import DEFAULT_PROMPT_VERSION
from reviewflow.domain.reply_policy import DEFAULT_POLICY_VERSION
from reviewflow.errors import ConfigurationError
from reviewflow.models.evaluation import GoldenCase, JudgedReply, JudgeName, Verdict


class CombinedJudge:
    """``ReplyJudge`` that runs several judges on the same reply and keeps all their verdicts."""

    def __init__(self, *judges: ReplyJudge):
        if not judges:
            raise ValueError("a combined judge needs at least one judge")
        self._judges = judges
        self.name = "+".join(judge.name for judge in judges)

    def judge(self, case: GoldenCase, reply: JudgedReply) -> list[Verdict]:
        return [verdict for judge in self._judges for verdict in judge.judge(case, reply)]


def case_passes(verdicts: Sequence[Verdict]) -> bool:
    """Whether a case passes: at least one verdict, and every verdict passed."""
    return bool(verdicts) and all(verdict.passed for verdict in verdicts)


def build_judge(
    judge: JudgeName,
    chat_model: ChatModel | None = None,
    *,
    policy_version: str = DEFAULT_POLICY_VERSION,
    prompt_version: str = DEFAULT_PROMPT_VERSION,
    max_attempts: int = 3,
) -> ReplyJudge:
    """The judge an evaluation asked for; ``llm`` needs the judge's chat model."""
    rule = RuleJudge(policy_version=policy_version)
    if judge == "rule":
        return rule
    if chat_model is None:
        raise ConfigurationError("the llm judge needs a chat model (judge_model_id)")
    return CombinedJudge(rule, LlmJudge(chat_model, prompt_version=prompt_version, max_attempts=max_attempts))
