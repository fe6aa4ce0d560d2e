"""Decides approvals the way a person's browser does, over real loopback HTTP.

Used by ``reviewflow run --decide approve|reject`` and by the workflow tests: take the link from
the emailed ``.eml``, ``GET`` it, read the page's form (hidden secret, prefilled fields), and
``POST`` it with the chosen button, with the headers a browser sends for a same-origin form
from a ``no-referrer`` page. Nothing here knows the secret except what the page carries.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

USER_AGENT = "Mozilla/5.0 (reviewflow local reviewer)"


@dataclass
class Form:
    action: str = ""
    method: str = "get"
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, str] = field(default_factory=dict)  # value -> name


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                Form(action=values.get("action", ""), method=values.get("method", "get").lower())
            )
        elif not self.forms:
            return
        elif tag == "input" and values.get("name") and values.get("type", "text") not in ("submit", "button"):
            self.forms[-1].fields[values["name"]] = values.get("value", "")
        elif tag == "textarea" and values.get("name"):
            self._textarea = values["name"]
            self.forms[-1].fields[self._textarea] = ""
        elif tag == "button" and values.get("name") and values.get("type", "submit") == "submit":
            self.forms[-1].buttons[values.get("value", "")] = values["name"]

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


@dataclass(frozen=True)
class PageResult:
    status: int
    url: str
    body: str


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> PageResult:
    if urlsplit(url).scheme != "http" or urlsplit(url).hostname != "127.0.0.1":
        raise ValueError("the local reviewer only follows links to the local front (http://127.0.0.1)")
    request = urllib.request.Request(url, data=data, headers={"User-Agent": USER_AGENT, **(headers or {})})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback only, checked above
            return PageResult(answer.status, answer.url, answer.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return PageResult(error.code, url, error.read().decode("utf-8", "replace"))


def decision_forms(page: str) -> list[Form]:
    """Every form of the page that posts a decision (Approve/Reject; Request a new draft has its own)."""
    parser = _FormParser()
    parser.feed(page)
    return [form for form in parser.forms if form.method == "post" and form.buttons]


def decision_form(page: str, decision: str | None = None) -> Form:
    """The form with the ``decision`` button (any decision form when ``None``)."""
    forms = decision_forms(page)
    if not forms:
        raise ValueError("the approval page has no decision form")
    for form in forms:
        if decision is None or decision in form.buttons:
            return form
    offered = sorted(value for form in forms for value in form.buttons)
    raise ValueError(f"the page offers {offered}, not {decision!r}")


def decide(
    link: str,
    decision: str,
    *,
    reviewer: str | None = None,
    comment: str | None = None,
    fill: dict[str, str] | None = None,
) -> tuple[PageResult, PageResult]:
    """``GET`` the link, then submit the form that has the ``decision`` button (APPROVED, REJECTED,
    or NEW_DRAFT_REQUESTED).

    ``fill`` sets other fields the form has (the reply's text, a reason for publishing over a rule,
    the guidance of a new draft).
    """
    shown = fetch(link, headers={"Sec-Fetch-Site": "none", "Accept": "text/html"})
    if shown.status != 200:
        raise RuntimeError(f"the approval page answered {shown.status}")
    form = decision_form(shown.body, decision)
    fields = dict(form.fields)
    if reviewer is not None and "reviewer" in fields:
        fields["reviewer"] = reviewer
    if comment is not None and "comment" in fields:
        fields["comment"] = comment
    unknown = set(fill or {}) - set(fields)
    if unknown:
        raise ValueError(f"the approval form has no field {sorted(unknown)}")
    fields.update(fill or {})
    fields[form.buttons[decision]] = decision
    decided = fetch(
        urljoin(link, form.action),
        data=urlencode(fields).encode("utf-8"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "null",  # a same-origin form post from a no-referrer page
            "Sec-Fetch-Site": "same-origin",
            "Accept": "text/html",
        },
    )
    return shown, decided
