"""Approval ids and link secrets: what an emailed link carries and how it is checked.

A link is ``<api>/approvals/<id>?s=<secret>``. The id (128 bits, also the table key) names the
item; the secret (256 bits) proves the holder got the email. Only the secret's SHA-256 is
stored, and it is compared in constant time.

A roster reviewer's email also carries their queue link,
``<api>/reviewers/<reviewer id>/queue?a=<approval id>&s=<the same secret>``: the approval and
secret of that one email, which the queue checks against the reviewer id in the path.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import quote, urlencode

APPROVAL_ID_BYTES = 16  # 128 bits; the id is also the table key, so it must not be guessable
LINK_SECRET_BYTES = 32  # 256 bits

_APPROVAL_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_approval_id() -> str:
    return secrets.token_urlsafe(APPROVAL_ID_BYTES)


def new_link_secret() -> str:
    return secrets.token_urlsafe(LINK_SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(candidate: str | None, stored_sha256: str) -> bool:
    """Constant-time comparison of hashes, so neither length nor prefix of the secret leaks."""
    supplied = hash_secret(candidate or "")
    return hmac.compare_digest(supplied.encode("ascii"), stored_sha256.encode("ascii")) and bool(candidate)


def reviewer_of(candidate: str | None, reviewer_links: dict[str, str]) -> str | None:
    """The roster reviewer whose own link secret this is, or ``None``.

    Every entry is compared in constant time, so neither which reviewer nor how many there are
    shows in the timing.
    """
    supplied = hash_secret(candidate or "").encode("ascii")
    found: str | None = None
    for stored_sha256, reviewer_id in reviewer_links.items():
        if hmac.compare_digest(supplied, stored_sha256.encode("ascii")):
            found = reviewer_id
    return found if candidate else None


def is_well_formed_id(approval_id: str) -> bool:
    return bool(_APPROVAL_ID.fullmatch(approval_id))


def approval_link(base_url: str, approval_id: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}/approvals/{quote(approval_id, safe='')}?s={quote(secret, safe='')}"


def queue_link(base_url: str, reviewer_id: str, approval_id: str, secret: str) -> str:
    """The reviewer's queue, opened with the approval and secret of one of their emails."""
    query = urlencode({"a": approval_id, "s": secret}, quote_via=quote)
    return f"{base_url.rstrip('/')}/reviewers/{quote(reviewer_id, safe='')}/queue?{query}"
