"""Reading a golden set: good lines parse, every bad line is named with its line number, field and
rule (never its value), duplicates are found, and the summary counts what reports need."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewflow.domain.evaluation.dataset import (
    MAX_PROBLEMS_LISTED,
    DatasetError,
    dataset_summary,
    load_dataset,
    parse_dataset,
)
from reviewflow.errors import InvalidInputError

SECRET = "Zq7-secret-value"


def case(number: int = 1, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "case_id": f"t-{number:03d}",
        "review": {
            "review_id": f"tr-{number:03d}",
            "product_id": "kettle-200",
            "product_name": "Aurora Electric Kettle",
            "review_text": f"Boils quickly and quietly, review number {number}.",
            "rating": 5,
        },
        "expected_route": "auto",
        "expected_sentiment": "POSITIVE",
        "reference_reply": "Thank you for the review! We're glad the kettle boils quickly for you.",
        "rules": {"must_thank": True},
        "tags": ["short"],
    }
    for key, value in changes.items():
        if key.startswith("review_"):
            record["review"][key.removeprefix("review_")] = value
        else:
            record[key] = value
    return record


def lines(*records: dict[str, Any] | str) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records)


def problems_of(text: str) -> list[str]:
    with pytest.raises(DatasetError) as caught:
        parse_dataset(text)
    return caught.value.problems


# ---- good input ---------------------------------------------------------------------------------


def test_a_good_file_parses_in_order() -> None:
    cases = parse_dataset(lines(case(1), case(2), case(3, expected_route="harmful", reference_reply=None)))
    assert [c.case_id for c in cases] == ["t-001", "t-002", "t-003"]
    assert cases[0].rules.must_thank and cases[0].review.rating == 5
    assert cases[2].reference_reply is None


def test_blank_lines_comments_crlf_and_a_byte_order_mark_are_skipped() -> None:
    text = "\ufeff# golden set for tests\n\n" + lines(case(1)) + "\r\n   \n  # indented comment\r\n"
    text += lines(case(2)) + "\n"
    cases = parse_dataset(text)
    assert [c.case_id for c in cases] == ["t-001", "t-002"]


def test_line_numbers_count_blank_and_comment_lines() -> None:
    text = "# header\n\n" + lines(case(1), "# a comment", '{"case_id": "t-002"')
    assert problems_of(text)[0].startswith("line 5: json: not valid JSON")


def test_a_line_separator_inside_a_string_is_not_a_line_break() -> None:
    text = "Good kettle.\u2028Second paragraph after a line separator.\u2029And a paragraph separator."
    (parsed,) = parse_dataset(lines(case(1, review_review_text=text)))
    assert parsed.review.review_text == text


def test_load_dataset_reads_a_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "v9.jsonl"
    path.write_text(
        lines(case(1, review_review_text="Der Wasserkocher ist leise. Schön!", review_language="de"))
    )
    (parsed,) = load_dataset(path)
    assert parsed.review.language == "de"


# ---- bad lines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ("{not json", "line 1: json: not valid JSON"),
        ('["a", "list"]', "line 1: json: must be a JSON object, not list"),
        ('"just a string"', "line 1: json: must be a JSON object, not str"),
        ('{"case_id": "t-1", "case_id": "t-2"}', "line 1: json: duplicate key 'case_id' in an object"),
        ('{"case_id": NaN}', "line 1: json: NaN is not a JSON number"),
        (
            case(expected_route="maybe"),
            "line 1: expected_route: Input should be 'auto', 'person' or 'harmful'",
        ),
        (case(expected_sentiment="ANGRY"), "line 1: expected_sentiment: Input should be 'POSITIVE'"),
        (case(review_rating=6), "line 1: review.rating: Input should be less than or equal to 5"),
        (case(review_rating="5"), "line 1: review.rating: Input should be a valid integer"),
        (case(review_review_text="   "), "line 1: review.review_text: must not be empty"),
        (case(review_language="english"), "line 1: review.language: must be a lower-case ISO"),
        (case(case_id="has spaces"), "line 1: case_id: String should match pattern"),
        (case(colour="blue"), "line 1: colour: Extra inputs are not permitted"),
        (
            case(rules={"must_thank": "yes please"}),
            "line 1: rules.must_thank: Input should be a valid boolean",
        ),
        (case(rules={"language": "EN"}), "line 1: rules.language: String should match pattern"),
        (
            case(rules={"max_chars": 5}),
            "line 1: rules.max_chars: Input should be greater than or equal to 20",
        ),
        (
            case(rules={"must_mention": ["battery"]}),
            "line 1: rules.must_mention.0: Input should be a valid list",
        ),
        (case(reference_reply=None), "line 1: case: a case answered automatically needs"),
        (case(expected_route="harmful"), "line 1: case: a harmful case gets no reply"),
        (case(tags="short"), "line 1: tags: Input should be a valid list"),
    ],
)
def test_each_kind_of_bad_line_gets_its_own_message(record: dict[str, Any] | str, expected: str) -> None:
    problems = problems_of(lines(record))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_a_missing_field_is_named() -> None:
    record = case()
    del record["review"]["product_id"]
    del record["expected_route"]
    assert problems_of(lines(record)) == [
        "line 1: review.product_id: Field required",
        "line 1: expected_route: Field required",
    ]


def test_every_bad_line_is_listed_with_its_number() -> None:
    text = lines(case(1), case(2, review_rating=0), case(3), "{oops", case(5, expected_route="later"))
    problems = problems_of(text)
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 4", "line 5"]


def test_the_message_lists_at_most_25_problems_then_how_many_more() -> None:
    text = lines(*(case(n, review_rating=9) for n in range(1, 31)))
    with pytest.raises(DatasetError) as caught:
        parse_dataset(text, source="v7.jsonl")
    message = str(caught.value)
    assert message.splitlines()[0] == "invalid v7.jsonl: 30 problem(s)"
    assert message.count("review.rating") == MAX_PROBLEMS_LISTED
    assert "line 25: review.rating" in message and "line 26:" not in message
    assert message.splitlines()[-1] == "and 5 more"
    assert len(caught.value.problems) == 30


def test_duplicate_case_ids_and_review_ids_name_the_first_line() -> None:
    text = lines(case(1), case(2), case(3, case_id="t-001"), case(4, review_review_id="tr-002"))
    assert problems_of(text) == [
        "line 3: case_id: duplicate of line 1",
        "line 4: review.review_id: duplicate of line 2",
    ]


def test_a_text_with_only_comments_has_no_cases() -> None:
    assert problems_of("# nothing here\n\n") == ["no cases: the text holds only blank and comment lines"]


def test_the_error_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        parse_dataset("{")


# ---- values are never echoed --------------------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        case(expected_route=SECRET),
        case(review_rating=SECRET),
        case(review_review_text=f"{SECRET}\x07 with a bell"),
        case(review_language=SECRET),
        case(rules={"language": SECRET}),
        case(case_id=f"{SECRET} spaced"),
        case(**{f"{SECRET} key": 1}),
        case(review_product_name=SECRET * 20),
        f'{{"case_id": "{SECRET}", "case_id": "again"}}',
        f'{{"{SECRET} key": 1, "{SECRET} key": 2}}',
        f'{{"case_id": "{SECRET}" "x"}}',
    ],
)
def test_no_problem_echoes_the_value(record: dict[str, Any] | str) -> None:
    text = lines(record, case(2, case_id=SECRET.lower()), case(3, case_id=SECRET.lower()))
    with pytest.raises(DatasetError) as caught:
        parse_dataset(text)
    assert SECRET not in str(caught.value)
    assert SECRET.lower() not in str(caught.value)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_bytes(lines(case(1)).encode() + b"\n" + b'{"case_id": "caf\xe9"}')
    with pytest.raises(DatasetError) as caught:
        load_dataset(path)
    assert caught.value.problems == ["line 2: text: not valid UTF-8"]
    assert str(caught.value).startswith("invalid broken.jsonl:")


def test_a_missing_file_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="cannot read the file"):
        load_dataset(tmp_path / "absent.jsonl")


# ---- summary ------------------------------------------------------------------------------------


def test_the_summary_counts_routes_ratings_sentiments_languages_and_tags() -> None:
    cases = parse_dataset(
        lines(
            case(1),
            case(2, review_rating=None, tags=["short", "question"]),
            case(3, review_language="de", expected_route="person", expected_sentiment=None, tags=[]),
            case(4, expected_route="harmful", reference_reply=None, expected_sentiment=None, tags=["threat"]),
        )
    )
    summary = dataset_summary(cases)
    assert summary == {
        "cases": 4,
        "routes": {"auto": 2, "person": 1, "harmful": 1},
        "ratings": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 3, "none": 1},
        "sentiments": {"POSITIVE": 2, "NEGATIVE": 0, "NEUTRAL": 0, "MIXED": 0, "none": 2},
        "languages": {"en": 3, "de": 1},
        "tags": {"short": 2, "question": 1, "threat": 1},
    }
    assert json.loads(json.dumps(summary)) == summary


def test_the_summary_of_nothing_is_all_zeros() -> None:
    summary = dataset_summary([])
    assert summary["cases"] == 0 and summary["languages"] == {} and summary["tags"] == {}
    assert set(summary["routes"].values()) == {0}
