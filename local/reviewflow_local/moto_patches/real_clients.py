"""A boto3 client that moto does not answer, for the local runtime's real-AWS model calls.

moto intercepts every botocore client in the process, not only those created while a mock is
on: importing ``moto.core.models`` appends its ``botocore_stubber`` to botocore's
``BUILTIN_HANDLERS`` as a ``before-send`` handler, and while a mock runs that handler answers any
request whose URL a moto backend claims (``comprehend`` among them; ``bedrock-runtime`` gets an
empty answer). ``without_emulation`` unregisters that one handler from one client's event
system, so that client's requests leave the process; every other client keeps it. This changes
nothing in moto itself; it depends on moto's handler object, so it lives here with a canary
(``tests/unit/local/test_real_aws.py``).
"""

from __future__ import annotations

from typing import Any

from reviewflow_local.moto_patches._support import require


def moto_before_send_handler() -> Any:
    """moto's process-wide ``before-send`` handler (``MotoInternalsChanged`` if it moved)."""
    from moto.core import models

    return require(models, "botocore_stubber")


def without_emulation(client: Any) -> Any:
    """``client`` with moto's ``before-send`` handler unregistered; returns the same client."""
    client.meta.events.unregister("before-send", moto_before_send_handler())
    return client
