"""Versioned prompt files and how untrusted text is put into them.

Prompts are data, not code: ``functions/prompts/<name>/<version>.<part>.txt`` (``part`` is
``system`` or ``user``), shipped inside the Lambda code asset and reachable from the repository
root through the ``prompts`` symlink. The active version of each prompt is a setting, and the
version string (``response/v1``) is published with every outcome so a reply can be traced back to
the exact text that produced it.

Rendering is ``string.Template`` substitution (``$name``) rather than ``str.format``: review text
is full of braces, and a single substitution pass never re-expands ``$`` inside the inserted
values. Untrusted values go through :func:`neutralise` first so a review cannot close the
``<review>`` data block and smuggle text outside it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

import reviewflow
from reviewflow.errors import ConfigurationError
from reviewflow.models.events import ReviewPosted

PARTS = ("system", "user")
#: The version a prompt uses unless the deployment chooses another (``*_prompt_version``).
DEFAULT_PROMPT_VERSION = "v1"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_VERSION = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

# An angle bracket (or a look-alike), optional invisible filler and a slash, then one of the
# prompt's delimiter words. Only the bracket is replaced, so the text stays readable while no
# longer forming a tag the model could take for the end (or start) of the data block.
_BRACKETS = "<\uff1c\ufe64\u2039\u3008\u27e8\u2329"
_FILLER = r"[\s\u200b-\u200f\u2060\ufeff]*"
_DELIMITER_LOOKALIKE = re.compile(
    f"[{_BRACKETS}]{_FILLER}[/\uff0f\\\\]?{_FILLER}(?:review|product|reviewer|instructions|system)",
    re.IGNORECASE,
)
_LINE_BREAKS = re.compile(r"\s+")
#: Staff guidance is cut at this many characters before it reaches a prompt.
MAX_GUIDANCE_CHARS = 1_000
# Every control and format character but tab and newline (C0, DEL, C1, bidi overrides, zero-width).
_GUIDANCE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_BLANK_LINES = re.compile(r"\n{3,}")


def prompts_dir() -> Path:
    """``functions/prompts``: the folder next to the ``reviewflow`` package in the code asset."""
    return Path(reviewflow.__file__).resolve().parent.parent / "prompts"


@dataclass(frozen=True)
class RenderedPrompt:
    system: str
    user: str
    version: str


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    system: Template
    user: Template

    @property
    def version_id(self) -> str:
        """What outcomes publish as ``prompt_version``, e.g. ``response/v1``."""
        return f"{self.name}/{self.version}"

    def render(self, **values: str) -> RenderedPrompt:
        """Substitute every ``$name``; a placeholder without a value is a bug, so it raises."""
        try:
            return RenderedPrompt(
                system=self.system.substitute(values),
                user=self.user.substitute(values),
                version=self.version_id,
            )
        except (KeyError, ValueError) as exc:
            raise ConfigurationError(f"prompt {self.version_id} has a placeholder without a value") from exc


@functools.cache
def load_prompt(name: str, version: str) -> PromptTemplate:
    """Read (once per process) both parts of a prompt version."""
    if not _NAME.fullmatch(name) or not _VERSION.fullmatch(version):
        raise ConfigurationError(f"invalid prompt name or version: {name!r} {version!r}")
    folder = prompts_dir() / name
    parts: dict[str, Template] = {}
    for part in PARTS:
        path = folder / f"{version}.{part}.txt"
        try:
            parts[part] = Template(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigurationError(f"prompt file {name}/{version}.{part}.txt does not exist") from exc
    return PromptTemplate(name=name, version=version, system=parts["system"], user=parts["user"])


def neutralise(text: str) -> str:
    """Untrusted text, unable to open or close a delimited block of the prompt."""
    return _DELIMITER_LOOKALIKE.sub(lambda match: "[" + match.group(0)[1:], text)


def single_line(text: str | None, missing: str = "(not given)") -> str:
    """A short untrusted field (names) on one line, neutralised, or ``missing`` when absent."""
    if text is None or not text.strip():
        return missing
    return neutralise(_LINE_BREAKS.sub(" ", text).strip())


def staff_guidance(text: str) -> str:
    """The store staff's guidance for a new draft, ready for its own (trusted) prompt block.

    Trusted as instructions, but still text typed into a form: control and invisible characters
    are removed, lines are kept, it is capped at ``MAX_GUIDANCE_CHARS``, and delimiter look-alikes
    are neutralised so pasted review text cannot open or close a block of the prompt.
    """
    cleaned = _GUIDANCE_CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    cleaned = _BLANK_LINES.sub("\n\n", cleaned).strip()[:MAX_GUIDANCE_CHARS].strip()
    return neutralise(cleaned)


def review_fields(review: ReviewPosted) -> dict[str, str]:
    """The values every prompt may use from a review, each made safe to insert."""
    return {
        "review_text": neutralise(review.review_text.strip()),
        "product_name": single_line(review.product_name),
        "reviewer_name": single_line(review.reviewer_name),
        "rating": str(review.rating) if review.rating is not None else "(not given)",
        "language": review.language,
    }
