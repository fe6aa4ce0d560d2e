"""The LLM judge: a language model grades a reply on four criteria, in a validated JSON shape.

The judge prompt is a versioned file pair (``functions/prompts/judge/<version>.*.txt``) rendered
with ``reviewflow.domain.prompts``. The review, the reference reply and the candidate reply are
untrusted: each goes between its own delimiter lines, neutralised so it cannot close its block
(``neutralise`` for the review's delimiters, ``_JUDGE_DELIMITER`` below for the reply blocks').

The answer must be ``{"criteria": [{"name", "passed", "reason"}, ...]}`` with each of
``CRITERIA`` exactly once, ``passed`` a JSON boolean and ``reason`` a non-empty string; unknown
keys are ignored. As in ``domain/sentiment.py``, the first JSON object of the answer is taken,
validated strictly, and a malformed answer is sent back with a correction — at most
``max_attempts`` calls in all — before ``MalformedModelOutputError``. Throttling and timeouts
surface as their typed errors, for the caller's retry policy.

Routing is never asked of the model: the rule judge judges it (``judges.CombinedJudge``). A case
whose expected route is ``harmful``, or that has no reply, gets no LLM verdict.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError

from reviewflow.domain.model_output import converse_for_json, first_json_object
from reviewflow.domain.ports import ChatModel
from reviewflow.domain.prompts import (
    DEFAULT_PROMPT_VERSION,
    RenderedPrompt,
    load_prompt,
    neutralise,
    review_fields,
    single_line,
)
from reviewflow.models.evaluation import CaseRules, GoldenCase, JudgedReply, Verdict
from reviewflow.models.steps import TokenUsage

PROMPT_NAME = "judge"
JUDGE_PREFIX = "llm"
CRITERIA: tuple[str, ...] = ("follows_rules", "matches_reference_intent", "tone", "language")
MAX_REASON_CHARS = 300
# Four short verdicts; the cap keeps a rambling judge cheap and still fits the JSON.
JUDGE_MAX_TOKENS = 600
JUDGE_TEMPERATURE = 0.0

CriterionName = Literal["follows_rules", "matches_reference_intent", "tone", "language"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REASON_CHARS)]

# The reply blocks' delimiters, neutralised like ``prompts.neutralise`` does the review's: the
# bracket (or a look-alike) before an optional slash and the delimiter word becomes ``[``.
_JUDGE_DELIMITER = re.compile(
    r"[<\uff1c\ufe64\u2039\u3008\u27e8\u2329][\s\u200b-\u200f\u2060\ufeff]*[/\uff0f\\]?"
    r"[\s\u200b-\u200f\u2060\ufeff]*(?:reference|candidate)",
    re.IGNORECASE,
)


class CriterionAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    name: CriterionName
    passed: StrictBool
    reason: Reason


class JudgeAnswer(BaseModel):
    """The only answer shape accepted from the judge model: every criterion, once."""

    model_config = ConfigDict(extra="ignore", strict=True)

    criteria: list[CriterionAnswer] = Field(min_length=len(CRITERIA), max_length=len(CRITERIA))

    def by_name(self) -> dict[str, CriterionAnswer]:
        return {answer.name: answer for answer in self.criteria}


def parse_judge_answer(text: str) -> JudgeAnswer:
    """Parse a judge answer; ``ValueError`` says, without echoing the answer, what was wrong."""
    found = first_json_object(text)
    if found is None:
        raise ValueError("the answer contained no JSON object")
    try:
        answer = JudgeAnswer.model_validate(found)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'object'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise ValueError(problems) from None
    missing = [name for name in CRITERIA if name not in answer.by_name()]
    if missing:
        raise ValueError(f"each criterion must appear once; missing: {', '.join(missing)}")
    return answer


def _correction(problem: str) -> str:
    names = ", ".join(CRITERIA)
    return (
        f"Your previous answer could not be used ({problem}). Answer again with exactly one JSON "
        'object and nothing else, in the shape {"criteria": [{"name": "...", "passed": true, '
        f'"reason": "..."}}]}}, with one entry for each of {names}, "passed" a JSON boolean, and '
        f'"reason" at most {MAX_REASON_CHARS} characters.'
    )


def neutralise_reply(text: str) -> str:
    """A reply text, unable to open or close any delimited block of the judge prompt."""
    return _JUDGE_DELIMITER.sub(lambda match: "[" + match.group(0)[1:], neutralise(text.strip()))


def describe_rules(case: GoldenCase) -> str:
    """The case's rules as the bulleted list the judge prompt shows (phrases neutralised)."""
    rules: CaseRules = case.rules
    lines = []
    if rules.must_apologise:
        lines.append("Apologise for the customer's experience.")
    if rules.must_thank:
        lines.append("Thank the customer.")
    if rules.must_mention_product:
        product = single_line(case.review.product_name, missing=case.review.product_id)
        lines.append(f"Mention the product by its name: {product}.")
    lines += [
        "Mention at least one of: " + "; ".join(f'"{single_line(p)}"' for p in group) + "."
        for group in rules.must_mention
        if group
    ]
    lines += [f'Do not mention "{single_line(p)}".' for p in rules.must_not_mention if p.strip()]
    if rules.must_not_promise:
        lines.append(
            "Do not promise or offer refunds, compensation, discounts, vouchers, gifts or replacements."
        )
    if rules.max_chars is not None:
        lines.append(f"At most {rules.max_chars} characters.")
    return "\n".join(f"- {line}" for line in lines) or "- (no rules beyond the standing ones)"


def judge_prompt_fields(case: GoldenCase, reply_text: str) -> dict[str, str]:
    """Every placeholder of the judge prompt, each made safe to insert."""
    reference = case.reference_reply
    return {
        **review_fields(case.review),
        "reply_language": case.rules.language or case.review.language,
        "rules": describe_rules(case),
        "reference_reply": neutralise_reply(reference) if reference else "(no reference reply)",
        "candidate_reply": neutralise_reply(reply_text),
    }


class LlmJudge:
    """``ReplyJudge`` backed by any ``ChatModel``; verdicts are ``judge="llm:<model id>"``."""

    name = JUDGE_PREFIX

    def __init__(
        self, chat_model: ChatModel, *, prompt_version: str = DEFAULT_PROMPT_VERSION, max_attempts: int = 3
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._chat_model = chat_model
        self._prompt = load_prompt(PROMPT_NAME, prompt_version)
        self._max_attempts = max_attempts
        self.usage = TokenUsage()  # every call this judge made, for the report's judge cost

    @property
    def prompt_version(self) -> str:
        """The judge prompt's version id, e.g. ``judge/v1``."""
        return self._prompt.version_id

    def render(self, case: GoldenCase, reply_text: str) -> RenderedPrompt:
        return self._prompt.render(**judge_prompt_fields(case, reply_text))

    def judge(self, case: GoldenCase, reply: JudgedReply) -> list[Verdict]:
        text = reply.reply_text
        if case.expected_route == "harmful" or text is None or not text.strip():
            return []
        answer, model_id = self._ask(self.render(case, text))
        judge = f"{JUDGE_PREFIX}:{model_id}"
        by_name = answer.by_name()
        return [
            Verdict(criterion=name, passed=by_name[name].passed, judge=judge, reason=by_name[name].reason)
            for name in CRITERIA
        ]

    def _count(self, usage: TokenUsage) -> None:
        self.usage = TokenUsage(
            input_tokens=self.usage.input_tokens + usage.input_tokens,
            output_tokens=self.usage.output_tokens + usage.output_tokens,
        )

    def _ask(self, prompt: RenderedPrompt) -> tuple[JudgeAnswer, str]:
        answer = converse_for_json(
            self._chat_model,
            prompt,
            parse_judge_answer,
            _correction,
            max_attempts=self._max_attempts,
            max_tokens=JUDGE_MAX_TOKENS,
            temperature=JUDGE_TEMPERATURE,
            what="judge verdict",
            on_usage=self._count,
        )
        return answer.value, answer.model_id
