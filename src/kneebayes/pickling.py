"""How frozen values that hold read-only mappings travel (pickle, ``copy.deepcopy``, other processes).

Results hand out mappings as ``types.MappingProxyType`` so that nobody can
change them, and a proxy cannot be pickled. A frozen dataclass with such a
field sets ``__reduce__ = reduce_frozen``: its fields travel as plain
dicts and come back as proxies, so the value is equal to the original and
as read-only.

>>> import pickle, kneebayes
>>> dx = kneebayes.load_model().diagnose({"locking_or_catching": "yes"})
>>> top = dx.most_probable_combinations(k=1)[0]        # its ``states`` is a read-only mapping
>>> back = pickle.loads(pickle.dumps(top))
>>> back == top, type(back.states).__name__
(True, 'mappingproxy')
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any

__all__ = ["rebuild_frozen", "reduce_frozen"]


def reduce_frozen(value: Any) -> tuple[Any, ...]:
    """``value.__reduce__()`` for a frozen dataclass: every field, read-only mappings as plain dicts."""
    fields: dict[str, Any] = {}
    proxied: list[str] = []
    for f in dataclasses.fields(value):
        item = getattr(value, f.name)
        if isinstance(item, MappingProxyType):
            item = dict(item)
            proxied.append(f.name)
        fields[f.name] = item
    return (rebuild_frozen, (type(value), fields, tuple(proxied)))


def rebuild_frozen(cls: type, fields: dict[str, Any], proxied: tuple[str, ...]) -> Any:
    """The value :func:`reduce_frozen` took apart. Pickles name this function: keep its name and arguments."""
    return cls(**{k: MappingProxyType(v) if k in proxied else v for k, v in fields.items()})
