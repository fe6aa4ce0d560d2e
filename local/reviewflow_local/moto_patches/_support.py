"""What every patch module shares: the refusal error, attribute checks, import-site rebinding."""

from __future__ import annotations

import functools
import importlib
import pkgutil
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

#: Compiled JSONPath expressions kept per parse function (the stack uses a few hundred paths).
JSONPATH_CACHE_SIZE = 4096
_memoised: dict[Any, Callable[..., Any]] = {}
_memoised_lock = threading.Lock()


class MotoInternalsChanged(RuntimeError):
    """moto no longer has the shape a patch was written against: re-check the patch."""


def require(owner: Any, attribute: str) -> Any:
    """``owner.attribute``, or ``MotoInternalsChanged`` naming what is gone."""
    if not hasattr(owner, attribute):
        raise MotoInternalsChanged(f"{getattr(owner, '__qualname__', owner)!r} has no {attribute!r} any more")
    return getattr(owner, attribute)


def memoised_jsonpath_parse(original: Callable[..., Any]) -> Callable[..., Any]:
    """One memoised twin per ``jsonpath_ng`` parse function, shared by every patch that needs it.

    A compiled expression holds no state of its own (``find``, ``update`` and
    ``update_or_create`` only read it), so handing the same one out again is safe.
    """
    with _memoised_lock:
        if original not in _memoised:
            _memoised[original] = functools.lru_cache(maxsize=JSONPATH_CACHE_SIZE)(original)
        return _memoised[original]


def import_all(package: ModuleType) -> list[ModuleType]:
    """Every importable module of ``package``, imported (the walk itself costs ~0.05 s).

    A module that cannot be imported (moto keeps a few LocalStack-only ones that need the
    ``localstack`` package) cannot run either, so it is skipped.
    """
    modules = [package]
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        try:
            modules.append(importlib.import_module(info.name))
        except ImportError:
            continue
    return modules


def rebind_everywhere(package: ModuleType, name: str, original: Any, replacement: Any) -> list[str]:
    """Point every module of ``package`` whose ``name`` is ``original`` at ``replacement``.

    moto imports its helpers by name (``from ... import boto_client_for``), so replacing the
    function in its home module alone changes nothing for the modules that already hold it.
    Returns the names of the modules rebound.
    """
    rebound = []
    for module in import_all(package):
        if vars(module).get(name) is original:
            setattr(module, name, replacement)
            rebound.append(module.__name__)
    return rebound


def modules_holding(package_name: str, name: str, value: Any) -> list[str]:
    """Loaded modules under ``package_name`` whose ``name`` is still ``value`` (for canaries)."""
    return sorted(
        module_name
        for module_name, module in list(sys.modules.items())
        if module_name.startswith(package_name) and module is not None and vars(module).get(name) is value
    )
