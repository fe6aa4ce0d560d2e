"""The unit tier's rule: no network. Every unit test runs with sockets unusable and with no
settings or providers cached from another test."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from reviewflow.config import get_settings
from reviewflow.providers import registry


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("unit tests must not open sockets")

    # Creating a socket is allowed (the X-Ray SDK makes an idle UDP one on import); using one is not.
    for method in ("connect", "connect_ex", "send", "sendto", "sendall"):
        monkeypatch.setattr(socket.socket, method, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in [key for key in os.environ if key.startswith("REVIEWFLOW_")]:
        monkeypatch.delenv(name)
    registry.reset()
    get_settings.cache_clear()
    yield
    registry.reset()
    get_settings.cache_clear()
