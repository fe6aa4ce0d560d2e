"""The reply policy: what no published reply may contain, written once as a versioned rule file.

Rules are data, like prompts: ``functions/policies/reply/<version>.json`` (documented in
``functions/policies/README.md``), shipped in the Lambda asset and chosen by the
``reply_policy_version`` setting. Each rule has a kind this module knows how to check:

- ``phrases`` — per-language regular expressions (promises of refunds, compensation, discounts,
  vouchers, gifts, replacements). Every language's phrases apply to every reply: a reply in one
  language may quote another, and missing a promise costs more than a second look by a person.
- ``patterns`` — language-independent expressions (money amounts, links, email addresses, phone
  numbers).
- ``review_quote`` — five words or more copied from a review that was not safe.
- ``invisible_only``, ``characters``, ``length`` — replies with nothing visible in them, with
  control or bidirectional override characters, or of the wrong size.

A violation names the rule, never the matched text: the page lists rules, and the outcome event
carries rule ids. Matching is case-insensitive on NFKC-normalised text, so full-width or styled
look-alike letters do not slip past a phrase.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import reviewflow
from reviewflow.errors import ConfigurationError
from reviewflow.models.replies import PolicyViolation

POLICY_NAME = "reply"
DEFAULT_POLICY_VERSION = "v1"
_VERSION = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Embedding, override and isolate controls (LRE RLE PDF LRO RLO, LRI RLI FSI PDI). The plain
# marks LRM/RLM stay allowed: Hebrew and Arabic replies need them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ALLOWED_CONTROLS = frozenset("\n\t")
_WORD = re.compile(r"\w+", re.UNICODE)


def policies_dir() -> Path:
    """``functions/policies``: beside the ``reviewflow`` package in the code asset."""
    return Path(reviewflow.__file__).resolve().parent.parent / "policies"


def policy_path(version: str) -> Path:
    return policies_dir() / POLICY_NAME / f"{version}.json"


def visible_text(text: str) -> str:
    """The text without whitespace and invisible characters (format, control, separators)."""
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc"))


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class ReplyContext:
    """What a rule may look at besides the reply: the review, and whether it was flagged."""

    review_text: str = ""
    review_flagged: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    overridable: bool
    check: Callable[[str, ReplyContext], bool]

    def violation(self) -> PolicyViolation:
        return PolicyViolation(rule=self.id, description=self.description, overridable=self.overridable)


@dataclass(frozen=True)
class ReplyPolicy:
    version: str
    rules: tuple[Rule, ...]

    def check(self, text: str, context: ReplyContext | None = None) -> list[PolicyViolation]:
        """Every rule the text breaks, in the file's order."""
        context = context or ReplyContext()
        return [rule.violation() for rule in self.rules if rule.check(text, context)]


def _any_match(expressions: list[str]) -> Callable[[str, ReplyContext], bool]:
    compiled = re.compile("|".join(f"(?:{e})" for e in expressions), re.IGNORECASE)
    return lambda text, _context: bool(compiled.search(_normal(text)))


def _phrases(spec: dict[str, Any]) -> Callable[[str, ReplyContext], bool]:
    words = [phrase for phrases in spec["phrases"].values() for phrase in phrases]
    return _any_match([rf"(?<!\w){phrase}(?!\w)" for phrase in words])


def _review_quote(spec: dict[str, Any]) -> Callable[[str, ReplyContext], bool]:
    size = int(spec["min_words"])

    def grams(text: str) -> set[tuple[str, ...]]:
        words = _WORD.findall(_normal(text))
        return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}

    def check(text: str, context: ReplyContext) -> bool:
        return context.review_flagged and bool(grams(text) & grams(context.review_text))

    return check


def _characters(_spec: dict[str, Any]) -> Callable[[str, ReplyContext], bool]:
    def check(text: str, _context: ReplyContext) -> bool:
        return any(
            ch in _BIDI_CONTROLS
            or (unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS)
            or unicodedata.category(ch) == "Cs"
            for ch in text
        )

    return check


def _length(spec: dict[str, Any]) -> Callable[[str, ReplyContext], bool]:
    low, high = int(spec["min_chars"]), int(spec["max_chars"])
    return lambda text, _context: not low <= len(visible_text(text)) <= high


_KINDS: dict[str, Callable[[dict[str, Any]], Callable[[str, ReplyContext], bool]]] = {
    "phrases": _phrases,
    "patterns": lambda spec: _any_match(list(spec["patterns"])),
    "review_quote": _review_quote,
    "invisible_only": lambda _spec: lambda text, _context: not visible_text(text),
    "characters": _characters,
    "length": _length,
}


def parse_policy(document: dict[str, Any]) -> ReplyPolicy:
    """A policy from its JSON document; ``ValueError`` naming the rule that cannot be used."""
    rules = []
    for spec in document["rules"]:
        kind = spec.get("kind")
        if kind not in _KINDS:
            raise ValueError(f"rule {spec.get('id')!r} has unknown kind {kind!r}; known: {sorted(_KINDS)}")
        try:
            check = _KINDS[kind](spec)
        except (KeyError, TypeError, re.error) as exc:
            raise ValueError(f"rule {spec.get('id')!r} is malformed: {exc}") from exc
        rules.append(Rule(str(spec["id"]), str(spec["description"]), bool(spec["overridable"]), check))
    return ReplyPolicy(version=f"{POLICY_NAME}/{document['version']}", rules=tuple(rules))


@functools.cache
def load_policy(version: str = DEFAULT_POLICY_VERSION) -> ReplyPolicy:
    """The policy file of this version, parsed and compiled once per process."""
    if not _VERSION.fullmatch(version):
        raise ConfigurationError(f"invalid reply policy version {version!r}")
    path = policy_path(version)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"reply policy {POLICY_NAME}/{version} not found: {path.name}") from None
    try:
        policy = parse_policy(document)
    except (ValueError, KeyError) as exc:
        raise ConfigurationError(f"reply policy {POLICY_NAME}/{version} cannot be used: {exc}") from exc
    if policy.version != f"{POLICY_NAME}/{version}":
        raise ConfigurationError(f"{path.name} declares version {document['version']!r}")
    return policy
