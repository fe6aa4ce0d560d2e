"""moto's model registry: it lists every model object ever made without keeping each one alive.

``moto.core.common_models.BaseModel.__new__`` appends every instance of every model class to the
class's ``instances_tracked`` list, for the dashboard (``/moto-api/data.json``) and S3's reset;
only ``reset_model_data`` (when a mock stops) empties the lists. Nothing else reads them, but
they keep every object alive for as long as the process runs, live or long gone: each SQS
message received and deleted, each state machine copy an execution makes, and above all the
copy of every table a ``TransactWriteItems`` takes before it writes (moto's rollback backup, one
``Item`` per item in the table, thrown away when the transaction succeeds). The review workflow
writes its insights in a transaction, so a review left a copy of the whole insights table
behind, and the copies grew with the table: ~250 KB retained per review after a few hundred.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

from reviewflow_local.moto_patches._support import MotoInternalsChanged, require


class WeakInstances:
    """What ``instances_tracked`` becomes: the instances still alive, in the order they were made.

    It offers what moto uses of the list: ``append`` and iteration (and ``len``). An object that
    cannot be weakly referenced (a ``__slots__`` model without ``__weakref__``) is kept as moto
    keeps it.
    """

    def __init__(self, instances: list[Any] | None = None) -> None:
        # No lock: a weakref callback may run inside any allocation, on the thread holding it.
        # Each dict operation below is atomic under the GIL; reading retries if one interleaves.
        self._refs: dict[int, weakref.ref[Any]] = {}
        self._strong: list[Any] = []
        for instance in instances or []:
            self.append(instance)

    def append(self, instance: Any) -> None:
        key = id(instance)
        refs = self._refs

        def forget(ref: weakref.ref[Any], key: int = key) -> None:
            if refs.get(key) is ref:  # not a newer object that got the same id
                refs.pop(key, None)

        try:
            refs[key] = weakref.ref(instance, forget)
        except TypeError:  # not weakly referenceable: kept, as moto keeps it
            self._strong.append(instance)

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                refs = list(self._refs.values())
                break
            except RuntimeError:  # an object died while the list was being read
                continue
        live = [instance for instance in (ref() for ref in refs) if instance is not None]
        return iter([*live, *self._strong])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def patch_weak_instance_tracking() -> None:
    """moto lacks: a model registry that lets go of dead objects; it keeps all of them, forever.

    The patch wraps ``BaseModel.__new__``: before moto's own runs (which appends the new instance
    to ``cls.instances_tracked``), the class's list is swapped for a ``WeakInstances`` holding the
    same objects, so the dashboard and S3's reset still see every live instance, and a dead one
    goes when its last real reference does. ``reset_model_data`` assigns fresh plain lists; the
    next instance of each class swaps its list again.
    """
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import model_data
    from moto.dynamodb.models.dynamo_type import Item

    original = require(BaseModel, "__new__")
    if Item not in model_data["dynamodb"].values() or not isinstance(
        vars(Item).get("instances_tracked"), list | WeakInstances
    ):
        raise MotoInternalsChanged("moto's model classes no longer keep an instances_tracked list")

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        tracked = cls.__dict__.get("instances_tracked")
        if isinstance(tracked, list):
            tracked = WeakInstances(tracked)
            type.__setattr__(cls, "instances_tracked", tracked)
        return original(cls, *args, **kwargs)

    __new__.__wrapped__ = original  # type: ignore[attr-defined]
    BaseModel.__new__ = __new__  # type: ignore[method-assign,assignment]
