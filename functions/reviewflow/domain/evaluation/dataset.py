"""The golden set as a file: JSON lines of ``GoldenCase``, read strictly, every problem at once.

One case per line (``evals/README.md`` documents the fields). Blank lines and lines whose first
non-blank character is ``#`` are skipped. Anything else must be one JSON object that validates as
a ``GoldenCase``; a case id or review id used twice is an error, because results are keyed by
case and a review id is what the pipeline de-duplicates on.

A bad file is refused whole, with a ``DatasetError`` listing every bad line as
``line N: <field>: <problem>`` (at most ``MAX_PROBLEMS_LISTED``, then ``and N more``). Like the
event models' errors, a problem names the field and the rule, never the value that broke it: a
golden set holds review text, and an error message ends up in logs and reports.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError

from reviewflow.errors import InvalidInputError
from reviewflow.models.evaluation import GoldenCase, Route
from reviewflow.models.events import Sentiment

MAX_PROBLEMS_LISTED = 25
_MAX_PROBLEM_CHARS = 200
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

#: The tag vocabulary (``evals/README.md`` explains each); reports count cases per tag.
TAGS: dict[str, str] = {
    "short": "the review text is at most 80 characters",
    "long": "the review text is over 1,100 UTF-8 bytes, so it is scored in more than one segment",
    "very_long": "the review text is over 3,000 UTF-8 bytes",
    "no_rating": "the review has no star rating",
    "no_product_name": "the review has no product name, so the reply cannot name the product",
    "non_english": "the review is not in English",
    "mixed_language": "the review mixes languages under one language code",
    "sarcasm": "the words say the opposite of what is meant",
    "contradiction": "the star rating and the words disagree",
    "question": "the reviewer asks something the reply should answer or route",
    "promise_bait": "the reviewer asks for money or goods, which the reply must not promise",
    "injection": "the text or a name field tries to give the model instructions",
    "name_fields": "the reviewer or product name carries the difficulty, not the review text",
    "rude": "rude but not abusive: mild swearing or insults aimed at the product",
    "abuse": "profanity or insults aimed at people",
    "threat": "an open threat of violence or harm",
    "polite_threat": "intimidation in polite or veiled words",
    "doxxing": "private details of staff, couriers or their families, held or published",
    "personal_data": "personal details the reply must not repeat (the reviewer's, or a third person's)",
    "safety": "an injury, burn, fire or other hazard is reported",
    "legal": "lawyers, courts, chargebacks or regulators are mentioned",
    "delivery": "the complaint or praise is about delivery rather than the product",
    "competitor": "another brand is named, which the reply should not repeat",
    "follow_up": "an update after earlier contact with the shop",
    "emoji": "emoji carry part of the meaning",
    "informal": "slang, abbreviations, missing capitals or punctuation",
}


class DatasetError(InvalidInputError):
    """A golden set that cannot be used; ``problems`` holds every problem found, in line order."""

    def __init__(self, problems: Sequence[str], source: str = "dataset") -> None:
        self.problems = list(problems)
        listed = self.problems[:MAX_PROBLEMS_LISTED]
        lines = [f"invalid {source}: {len(self.problems)} problem(s)", *listed]
        if len(self.problems) > len(listed):
            lines.append(f"and {len(self.problems) - len(listed)} more")
        super().__init__("\n".join(lines))


def _field(location: Iterable[int | str]) -> str:
    """A dotted field path; keys that are not plain names are input too, so they are not shown."""
    parts = [str(part) if isinstance(part, int) or _NAME.match(part) else "<key>" for part in location]
    return ".".join(parts) or "case"


def _problem(number: int, field: str, message: str) -> str:
    return f"line {number}: {field}: {message}"[:_MAX_PROBLEM_CHARS]


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _value in pairs]
    repeated = next((key for key in keys if keys.count(key) > 1), None)
    if repeated is not None:
        shown = repeated if _NAME.match(repeated) else "<key>"
        raise ValueError(f"duplicate key {shown!r} in an object")
    return dict(pairs)


def _decode(number: int, line: str, problems: list[str]) -> Any:
    try:
        return json.loads(
            line, object_pairs_hook=_object_without_duplicate_keys, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        problems.append(_problem(number, "json", f"not valid JSON: {exc.msg} (column {exc.colno})"))
    except ValueError as exc:
        problems.append(_problem(number, "json", str(exc)))
    return None


def _parse_line(number: int, line: str, problems: list[str]) -> GoldenCase | None:
    document = _decode(number, line, problems)
    if document is None:
        return None
    if not isinstance(document, dict):
        problems.append(_problem(number, "json", f"must be a JSON object, not {type(document).__name__}"))
        return None
    try:
        return GoldenCase.model_validate(document)
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False, include_context=False):
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(_problem(number, _field(error["loc"]), message))
        return None


def _content_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of every line that is neither blank nor a comment."""
    # Split on newlines only: JSON strings may hold U+2028 and other separators splitlines() uses.
    for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        line = raw.removesuffix("\r")
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line


def _check_unique(
    number: int, case: GoldenCase, seen: dict[tuple[str, str], int], problems: list[str]
) -> None:
    for field, value in (("case_id", case.case_id), ("review.review_id", case.review.review_id)):
        first = seen.setdefault((field, value), number)
        if first != number:
            problems.append(_problem(number, field, f"duplicate of line {first}"))


def parse_dataset(text: str, *, source: str = "dataset") -> list[GoldenCase]:
    """Every case of a golden set in file order; ``DatasetError`` listing every problem otherwise."""
    problems: list[str] = []
    cases: list[GoldenCase] = []
    seen: dict[tuple[str, str], int] = {}
    for number, line in _content_lines(text):
        case = _parse_line(number, line, problems)
        if case is not None:
            _check_unique(number, case, seen, problems)
            cases.append(case)
    if not cases and not problems:
        problems.append("no cases: the text holds only blank and comment lines")
    if problems:
        raise DatasetError(problems, source)
    return cases


def load_dataset(path: str | Path) -> list[GoldenCase]:
    """The golden set in a UTF-8 JSON-lines file (``parse_dataset``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(
            [f"cannot read the file: {exc.strerror or type(exc).__name__}"], path.name
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        number = data.count(b"\n", 0, exc.start) + 1
        raise DatasetError([_problem(number, "text", "not valid UTF-8")], path.name) from None
    return parse_dataset(text, source=path.name)


def _ranked(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def dataset_summary(cases: Sequence[GoldenCase]) -> dict[str, Any]:
    """Counts for reports: cases by route, rating, sentiment, language and tag.

    Routes, ratings (``"1"``..``"5"``, ``"none"``) and sentiments (``"none"`` where no sentiment is
    expected) list every value, zeros included; languages and tags list those present, most first.
    """
    routes = Counter(case.expected_route for case in cases)
    ratings = Counter("none" if case.review.rating is None else str(case.review.rating) for case in cases)
    sentiments = Counter(case.expected_sentiment or "none" for case in cases)
    return {
        "cases": len(cases),
        "routes": {route: routes[route] for route in get_args(Route)},
        "ratings": {key: ratings[key] for key in ("1", "2", "3", "4", "5", "none")},
        "sentiments": {key: sentiments[key] for key in (*get_args(Sentiment), "none")},
        "languages": _ranked(Counter(case.review.language for case in cases)),
        "tags": _ranked(Counter(tag for case in cases for tag in case.tags)),
    }
