"""Inputs a storefront (or an attacker) might post instead of a review.

Each case names the detail to post and what must come of it: ``invalid`` with the field the
error must name (the review ends as ``RESPONSE_GENERATION_FAILED`` / ``invalid_review``), or
``rejected`` when EventBridge itself refuses the entry (the caller sees a failed entry; nothing
enters the pipeline, so nothing can be lost).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BASE = {"review_id": "bad-base", "product_id": "p-1", "review_text": "Fine product."}


@dataclass(frozen=True)
class BadInput:
    name: str
    detail: Any
    expect: str  # "invalid" or "rejected"
    field: str | None = None  # a field the invalid_review errors must name

    @property
    def review_id(self) -> str | None:
        rid = self.detail.get("review_id") if isinstance(self.detail, dict) else None
        return rid if isinstance(rid, str) else None


def _with(review_id: Any, drop_id: bool = False, **changes: Any) -> dict[str, Any]:
    detail = dict(BASE, review_id=review_id)
    if drop_id:
        detail.pop("review_id")
    for key, value in changes.items():
        if value is ...:
            detail.pop(key, None)
        else:
            detail[key] = value
    return detail


CASES: list[BadInput] = [
    BadInput("missing review_text", _with("bad-01", review_text=...), "invalid", "review_text"),
    BadInput("missing product_id", _with("bad-02", product_id=...), "invalid", "product_id"),
    BadInput("missing review_id", _with("x", drop_id=True), "invalid", "review_id"),
    BadInput("empty detail", {}, "invalid", "review_id"),
    BadInput("review_id is a number", _with(12345), "invalid", "review_id"),
    BadInput("product_id is null", _with("bad-06", product_id=None), "invalid", "product_id"),
    BadInput("review_text is a number", _with("bad-07", review_text=42), "invalid", "review_text"),
    BadInput("review_text is an object", _with("bad-08", review_text={"t": "x"}), "invalid", "review_text"),
    BadInput("review_text is a list", _with("bad-09", review_text=["a", "b"]), "invalid", "review_text"),
    BadInput("empty text", _with("bad-10", review_text=""), "invalid", "review_text"),
    BadInput("whitespace-only text", _with("bad-11", review_text="   \n\t  "), "invalid", "review_text"),
    BadInput("20,001 characters", _with("bad-12", review_text="a" * 20_001), "invalid", "review_text"),
    BadInput("100,000 characters", _with("bad-13", review_text="word " * 20_000), "invalid", "review_text"),
    BadInput("1 MB detail", _with("bad-14", review_text="b" * 1_048_576), "rejected"),
    BadInput("lone surrogate", _with("bad-15", review_text="broken \ud83d half"), "invalid", "review_text"),
    BadInput("NUL byte", _with("bad-16", review_text="nul\x00inside"), "invalid", "review_text"),
    BadInput("ANSI escape", _with("bad-17", review_text="\x1b[2J\x1b[H cleared"), "invalid", "review_text"),
    BadInput("bell in reviewer name", _with("bad-18", reviewer_name="ding\x07"), "invalid", "reviewer_name"),
    BadInput("C1 control", _with("bad-19", review_text="next\x85line"), "invalid", "review_text"),
    BadInput("review_id with slash", _with("../../etc/passwd"), "invalid", "review_id"),
    BadInput("review_id with space", _with("review 20"), "invalid", "review_id"),
    BadInput("review_id with query", _with("r?x=1&y=2"), "invalid", "review_id"),
    BadInput("review_id 129 chars", _with("r" * 129), "invalid", "review_id"),
    BadInput("review_id empty", _with(""), "invalid", "review_id"),
    BadInput("review_id with unicode", _with("révïew-25"), "invalid", "review_id"),
    BadInput("product_id with HTML", _with("bad-26", product_id="<b>p</b>"), "invalid", "product_id"),
    BadInput("unknown language", _with("bad-27", language="xx"), "invalid", "language"),
    BadInput("language as a name", _with("bad-28", language="English"), "invalid", "language"),
    BadInput("language upper case", _with("bad-29", language="EN"), "invalid", "language"),
    BadInput("rating 0", _with("bad-30", rating=0), "invalid", "rating"),
    BadInput("rating 6", _with("bad-31", rating=6), "invalid", "rating"),
    BadInput("rating negative", _with("bad-32", rating=-1), "invalid", "rating"),
    BadInput("rating as string", _with("bad-33", rating="5"), "invalid", "rating"),
    BadInput("rating as float", _with("bad-34", rating=4.5), "invalid", "rating"),
    BadInput("rating as boolean", _with("bad-35", rating=True), "invalid", "rating"),
    BadInput("product_name 201 chars", _with("bad-36", product_name="n" * 201), "invalid", "product_name"),
    BadInput("reviewer_name is a list", _with("bad-37", reviewer_name=["a"]), "invalid", "reviewer_name"),
    BadInput("posted_at not a date", _with("bad-38", posted_at="last tuesday"), "invalid", "posted_at"),
    BadInput("posted_at a number", _with("bad-39", posted_at=1732356000), "invalid", "posted_at"),
    BadInput("extra field", _with("bad-40", is_admin=True), "invalid", "is_admin"),
    BadInput("many extra fields", _with("bad-41", **{f"f{i}": i for i in range(60)}), "invalid", "f0"),
    BadInput("nested detail", {"review": _with("bad-42")}, "invalid", "review"),
    BadInput(
        "HTML and script in text with a bad rating",
        _with("bad-43", review_text="<script>alert(document.cookie)</script>", rating=10),
        "invalid",
        "rating",
    ),
    BadInput("detail is a list", ["review_id", "bad-44"], "invalid", "detail"),
    BadInput("detail is a string", "just a string", "invalid", "detail"),
    BadInput("detail is a number", 42, "invalid", "detail"),
    BadInput("detail is null", None, "invalid", "detail"),
]

assert len({c.name for c in CASES}) == len(CASES)
