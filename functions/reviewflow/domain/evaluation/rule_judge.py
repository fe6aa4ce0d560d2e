"""The rule judge: deterministic, offline criteria for what the pipeline did with a golden case.

Criteria, each one ``Verdict`` with ``judge="rule"``:

- ``route`` — the route taken is the expected one. It is always judged, and it is the only
  criterion when the expected route is ``harmful`` (no reply should exist, so none is judged).
- ``reply_exists`` — only when the case expects an automatic reply and none came back.
- When a reply exists: ``reply_policy`` (the publish gate recorded no reply-policy violation),
  ``language``, ``length`` (``rules.max_chars``, default 1,500 characters of the stripped reply,
  spaces included), and one per rule the case sets: ``apologises``, ``thanks``,
  ``mentions_product``, ``mentions:<first alternative>`` per ``must_mention`` group,
  ``avoids:<phrase>`` per ``must_not_mention`` entry, ``no_promise``.

``language``: the reply must be in ``rules.language``, else the review's language. When the
detector (``language.py``) names another language the criterion fails; when it cannot tell, a
reply longer than ``LANGUAGE_MIN_CHARS`` fails ("could not detect the language") — being unsure
is not a pass — and a shorter one passes as "too short to tell". A language the detector does
not know is not checked, and the verdict says so.

``no_promise`` checks the reply *text* with the reply policy's promise rule (the judge's policy
version), not the gate's record: a stored result judged again gives the same answer, and the
gate's record is already judged by ``reply_policy``.

Phrases (``mentions``, ``avoids``, product names) match whole word sequences, case-insensitive,
on NFKC-normalised text with spaces collapsed — as the reply policy matches its phrases. List
inflections as alternatives (``["contact", "contacting"]``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from reviewflow.domain.evaluation.language import LANGUAGES, detect_language
from reviewflow.domain.reply_policy import DEFAULT_POLICY_VERSION, ReplyContext, load_policy
from reviewflow.errors import ConfigurationError
from reviewflow.models.evaluation import GoldenCase, JudgedReply, Verdict

JUDGE = "rule"
DEFAULT_MAX_CHARS = 1500
LANGUAGE_MIN_CHARS = 40
PROMISE_RULE = "promise_of_money_or_goods"
_MAX_REASON = 500

# Apologies and thanks in the seven languages of the reply policy; every list applies to every
# reply (a reply may be in another language than asked, which ``language`` judges on its own).
APOLOGY_PHRASES: tuple[str, ...] = (
    r"sorry", r"apolog\w*", r"regret\w*",  # en
    r"entschuldig\w*", r"tut (?:uns|mir) (?:sehr )?leid", r"bedauer\w*",  # de
    r"d[ée]sol[ée]e?s?", r"excus\w*", r"navr[ée]e?s?",  # fr
    r"lo siento", r"sentimos", r"perd[oó]n\w*", r"disculp\w*", r"lamentamos",  # es
    r"scus\w*", r"(?:ci|mi) dispiace", r"spiacent\w*",  # it
    r"excuses", r"spijt", r"verontschuldig\w*",  # nl
    r"desculp\w*", r"perd[aã]o", r"lamento",  # pt
)  # fmt: skip
THANKS_PHRASES: tuple[str, ...] = (
    r"thank\w*", r"grateful", r"appreciat\w*",  # en
    r"dank\w*", r"bedank\w*",  # de, nl
    r"merci", r"remerci\w*",  # fr
    r"gracias", r"agradec\w*",  # es, pt
    r"grazie", r"ringrazi\w*",  # it
    r"obrigad[oa]s?",  # pt
)  # fmt: skip


def normal(text: str) -> str:
    """Casefolded NFKC text with runs of whitespace collapsed to one space."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _any_of(expressions: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(rf"(?<!\w)(?:{e})(?!\w)" for e in expressions))


_APOLOGY = _any_of(APOLOGY_PHRASES)
_THANKS = _any_of(THANKS_PHRASES)


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` as a whole word sequence (see the module docstring)."""
    wanted = normal(phrase)
    return bool(wanted) and re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", normal(text)) is not None


def _verdict(criterion: str, passed: bool, reason: str) -> Verdict:
    return Verdict(criterion=criterion, passed=passed, judge=JUDGE, reason=reason[:_MAX_REASON])


def judge_route(case: GoldenCase, reply: JudgedReply) -> Verdict:
    passed = reply.actual_route == case.expected_route
    relation = "as expected" if passed else f"expected {case.expected_route}"
    return _verdict("route", passed, f"took route {reply.actual_route}, {relation}")


def judge_language(text: str, expected: str) -> Verdict:
    """The ``language`` criterion for one reply text and the code it must be written in."""
    if expected not in LANGUAGES:
        return _verdict("language", True, f"not checked: the detector does not know {expected!r}")
    detected = detect_language(text)
    if detected == expected:
        return _verdict("language", True, f"written in {expected}")
    if detected is not None:
        return _verdict("language", False, f"written in {detected}, expected {expected}")
    if len(text.strip()) > LANGUAGE_MIN_CHARS:
        return _verdict("language", False, f"could not detect the language (expected {expected})")
    return _verdict("language", True, "too short to tell")


def judge_length(text: str, max_chars: int) -> Verdict:
    size = len(text.strip())
    passed = size <= max_chars
    return _verdict("length", passed, f"{size} characters, {'within' if passed else 'over'} {max_chars}")


def _judge_gate(reply: JudgedReply) -> Verdict:
    if not reply.policy_violations:
        return _verdict("reply_policy", True, "the gate found no reply-policy violation")
    return _verdict("reply_policy", False, "the gate found: " + ", ".join(reply.policy_violations))


def _judge_pattern(criterion: str, text: str, pattern: re.Pattern[str], what: str) -> Verdict:
    found = pattern.search(normal(text)) is not None
    return _verdict(criterion, found, f"{what} {'found' if found else 'missing'}")


def _judge_product(case: GoldenCase, text: str) -> Verdict:
    names = [name for name in (case.review.product_name, case.review.product_id) if name]
    found = any(contains_phrase(text, name) for name in names)
    described = " or ".join(repr(name) for name in names)
    return _verdict("mentions_product", found, f"{described} {'mentioned' if found else 'not mentioned'}")


def _judge_mentions(group: list[str], text: str) -> Verdict:
    found = [phrase for phrase in group if contains_phrase(text, phrase)]
    criterion = f"mentions:{group[0]}"
    if found:
        return _verdict(criterion, True, f"mentions {found[0]!r}")
    return _verdict(criterion, False, "mentions none of " + ", ".join(repr(p) for p in group))


def _judge_avoids(phrase: str, text: str) -> Verdict:
    found = contains_phrase(text, phrase)
    return _verdict(f"avoids:{phrase}", not found, f"{phrase!r} {'mentioned' if found else 'not mentioned'}")


class RuleJudge:
    """``ReplyJudge`` of the deterministic criteria above."""

    name = JUDGE

    def __init__(self, *, policy_version: str = DEFAULT_POLICY_VERSION):
        self._policy = load_policy(policy_version)
        if not any(rule.id == PROMISE_RULE for rule in self._policy.rules):
            raise ConfigurationError(f"reply policy {self._policy.version} has no rule {PROMISE_RULE!r}")

    def judge(self, case: GoldenCase, reply: JudgedReply) -> list[Verdict]:
        verdicts = [judge_route(case, reply)]
        if case.expected_route == "harmful":
            return verdicts
        text = reply.reply_text
        if text is None or not text.strip():
            if case.expected_route == "auto":
                verdicts.append(_verdict("reply_exists", False, "no reply to judge"))
            return verdicts
        return verdicts + self._reply_verdicts(case, reply, text)

    def _reply_verdicts(self, case: GoldenCase, reply: JudgedReply, text: str) -> list[Verdict]:
        rules = case.rules
        verdicts = [
            _judge_gate(reply),
            judge_language(text, rules.language or case.review.language),
            judge_length(text, rules.max_chars or DEFAULT_MAX_CHARS),
        ]
        if rules.must_apologise:
            verdicts.append(_judge_pattern("apologises", text, _APOLOGY, "an apology"))
        if rules.must_thank:
            verdicts.append(_judge_pattern("thanks", text, _THANKS, "thanks"))
        if rules.must_mention_product:
            verdicts.append(_judge_product(case, text))
        verdicts += [_judge_mentions(group, text) for group in rules.must_mention if group]
        verdicts += [_judge_avoids(phrase, text) for phrase in rules.must_not_mention if phrase.strip()]
        if rules.must_not_promise:
            verdicts.append(self._judge_promise(case, text))
        return verdicts

    def _judge_promise(self, case: GoldenCase, text: str) -> Verdict:
        context = ReplyContext(review_text=case.review.review_text)
        promised = any(v.rule == PROMISE_RULE for v in self._policy.check(text, context))
        reason = f"{'breaks' if promised else 'keeps'} {self._policy.version} rule {PROMISE_RULE}"
        return _verdict("no_promise", not promised, reason)
