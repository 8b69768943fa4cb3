"""Reading a model file's ``claims``: what the article says, as checks the model must pass.

Each claim names a check (:data:`~.format.CLAIM_CHECKS`) with the fields it
needs: causes, the evidence under which to compare, a factor. Nodes and
states are checked against the file's nodes; a claim with a problem is
left out, its problems noted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import quote
from .fields import FieldReader, line_of
from .format import CLAIM_CHECKS, CLAIM_KEYS
from .numbers import is_number
from .schema import ClaimSpec
from .yamlsafe import written

__all__ = ["read_claims"]


def _evidence(reader: FieldReader, raw: object, *, claim: str, field: str, line: int | None,
              node_states: Mapping[str, tuple[str, ...]]) -> tuple[tuple[str, str], ...] | None:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        reader.problem(f"{field} must map node ids to states, got {quote(raw)}", node=None, field=f"claims.{claim}.{field}",
                       line=line)
        return None
    out = []
    for key, v in raw.items():
        k = written(key)   # a node id as written (keys are always plain values: the reader refuses others)
        if k not in node_states:
            reader.problem(f"unknown node {quote(k)}{reader.hint(k, node_states)}",
                           field=f"claims.{claim}.{field}", line=line_of(raw, k))
            return None
        if written(v) not in node_states[k]:
            reader.problem(f"{quote(v)} is not a state of '{k}' (valid: {', '.join(node_states[k])})",
                           field=f"claims.{claim}.{field}.{k}", line=line_of(raw, key))
            return None
        out.append((k, written(v)))
    return tuple(out)


def read_claims(reader: FieldReader, raw: object, line: int | None, node_states: Mapping[str, tuple[str, ...]],
                kinds: Mapping[str, str]) -> tuple[ClaimSpec, ...]:
    """The sound claims of the ``claims`` list (``raw``, at ``line``), in file order."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        reader.problem("claims must be a list", field="claims", line=line)
        return ()
    claims: list[ClaimSpec] = []
    seen: set[str] = set()
    for i, c in enumerate(raw):
        cline = line_of(c) or line
        if not isinstance(c, Mapping):
            reader.problem("each claim must be a mapping", field=f"claims[{i}]", line=cline)
            continue
        cid = c.get("id") if isinstance(c.get("id"), str) else f"claims[{i}]"
        reader.unknown_keys(c, CLAIM_KEYS, node=None, field=f"claims.{cid}")
        texts = {k: reader.text(c, k, node=None, field_prefix=f"claims.{cid}.") for k in ("id", "statement", "source", "check")}
        check = texts["check"]
        if cid in seen:
            reader.problem(f"duplicate claim id {quote(cid)}", field=f"claims.{cid}.id", line=cline)
        seen.add(cid)
        if check is None or None in texts.values():
            continue
        if check not in CLAIM_CHECKS:
            reader.problem(f"unknown check {quote(check)}; valid checks: {', '.join(CLAIM_CHECKS)}",
                           field=f"claims.{cid}.check", line=line_of(c, "check"))
            continue
        ok = True
        for f in CLAIM_CHECKS[check]:
            if f not in c:
                reader.problem(f"check {check} needs {f}", field=f"claims.{cid}.{f}", line=cline)
                ok = False
        for f in ("cause", "than"):
            if f in c and (not isinstance(c[f], str) or c[f] not in kinds):
                reader.problem(f"unknown node {quote(c[f])}{reader.hint(c[f], kinds)}",
                               field=f"claims.{cid}.{f}", line=line_of(c, f))
                ok = False
        screened = c.get("screened", False)
        if not isinstance(screened, bool):
            reader.problem(f"screened must be true or false, got {screened!r:.40}", field=f"claims.{cid}.screened",
                           line=line_of(c, "screened"))
            ok = False
        by = c.get("by")
        if by is not None and not (is_number(by) and math.isfinite(by) and by > 1):
            reader.problem(f"by must be a number above 1 (how many times the prior), got {by!r:.40}",
                           field=f"claims.{cid}.by", line=line_of(c, "by"))
            ok = False
        given = _evidence(reader, c.get("given"), claim=cid, field="given", line=line_of(c, "given"), node_states=node_states)
        versus = _evidence(reader, c.get("versus"), claim=cid, field="versus", line=line_of(c, "versus"),
                           node_states=node_states)
        if not ok or given is None or versus is None:
            continue
        claims.append(ClaimSpec(
            id=cid, statement=texts["statement"] or "", source=texts["source"] or "", check=check,
            cause=c.get("cause"), than=c.get("than"), given=given, versus=versus,
            parent_kind=c.get("parent_kind"), child_kind=c.get("child_kind"),
            screened=screened is True, by=None if by is None else float(by),
        ))
    return tuple(claims)
