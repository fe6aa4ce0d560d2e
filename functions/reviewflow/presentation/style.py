"""How every approval page looks and what it sends with it: one stylesheet, strict headers.

The only style is this inline ``<style>`` block, allowed by its hash in the
Content-Security-Policy; pages carry no script and load no external asset.
"""

from __future__ import annotations

import base64
import hashlib

CSS = (
    "*{box-sizing:border-box}"
    "body{margin:0;background:#f5f5f4;color:#1c1917;"
    "font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
    "main{max-width:46rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.4rem;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}"
    "section{background:#fff;border:1px solid #d6d3d1;border-radius:.5rem;padding:1rem;margin:0 0 1rem}"
    "section>h2:first-child,section>p:first-child{margin-top:0}section>p:last-child{margin-bottom:0}"
    "blockquote{margin:0;padding:.75rem;background:#fafaf9;border-left:4px solid #a8a29e;"
    "white-space:pre-wrap;overflow-wrap:anywhere}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}"
    "dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}"
    "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .5rem;"
    "border-bottom:1px solid #e7e5e4}"
    "label{display:block;font-weight:600;margin:.75rem 0 .25rem}"
    "input[type=text],textarea{width:100%;font:inherit;padding:.5rem;border:1px solid #a8a29e;"
    "border-radius:.375rem}"
    "textarea{min-height:10rem}"
    ".actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1rem}"
    "button{font:inherit;font-weight:600;padding:.75rem 1.5rem;border:0;border-radius:.375rem;"
    "cursor:pointer;flex:1 1 10rem}"
    ".approve{background:#15803d;color:#fff}.reject{background:#b91c1c;color:#fff}"
    ".redraft{background:#1d4ed8;color:#fff}"
    ".note{color:#57534e;font-size:.9rem}.badge{font-weight:700}"
    ".deadline{background:#fef3c7;border-color:#f59e0b}"
    ".refused{background:#fee2e2;border-color:#dc2626}.rules{margin:.25rem 0;padding-left:1.25rem}"
    ".queue{list-style:none;margin:0;padding:0}a{color:#1d4ed8;overflow-wrap:anywhere}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")

CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'none'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
HTML_CONTENT_TYPE = "text/html; charset=utf-8"
