"""Retention overlays: a provincial rule on how long a record counts, applied to the schemes
of that province as one cited rule, not as a copy in each scheme file.

Zhejiang (and Tianjin) delete information on untrustworthy behaviour after five years and
no longer use it in assessments (seed 004). An overlay names its province and how long a
penalty's record is kept (`keep_for`); applied to a scheme of that province, every penalty
rule lapses after at most that long (`expires_after`), and the list states and grades it
sets end by then. Rules that already lapse sooner are left alone, and so are rewards.

Applied, an overlay is a reform of the scheme whose id stays the scheme's: `creditlab show`
marks each rule it changed ("was: none") and the replay manifest lists it under `reforms`.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from creditlab.engine.errors import SchemeError
from creditlab.engine.inputs.load import located_error
from creditlab.engine.inputs.located import load_yaml
from creditlab.engine.inputs.reform import SetValue, apply_changes
from creditlab.engine.inputs.scheme import (
    Cited,
    Duration,
    ListEffect,
    ReclassifyEffect,
    Scheme,
)
from creditlab.engine.inputs.vocabulary import Vocabulary
from creditlab.engine.model import Model

__all__ = ["RetentionOverlay", "apply_overlays", "load_overlay", "shipped_overlays"]

_PROBE = date(2000, 1, 1)
"""A day from which two durations are compared (years, months and days do not add up)."""


class RetentionOverlay(Cited):
    """How long a province keeps a record of untrustworthy behaviour."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    province: str
    title: str
    keep_for: Duration
    file: str = "<overlay>"


class _File(Model):
    overlay: RetentionOverlay


def load_overlay(path: str | Path) -> RetentionOverlay:
    """An overlay file, validated (errors name file, line and field)."""
    located = load_yaml(Path(path), SchemeError)
    try:
        overlay = _File.model_validate(located.data).overlay
    except ValidationError as exc:
        raise located_error(exc, located) from None
    return overlay.model_copy(update={"file": located.file})


@cache
def shipped_overlays(folder: Path) -> tuple[RetentionOverlay, ...]:
    """The overlays in `folder` (schemes/overlays), sorted by id."""
    return tuple(sorted((load_overlay(p) for p in folder.glob("*.yaml")),
                        key=lambda o: o.id))


def _longer(duration: Duration | None, limit: Duration) -> bool:
    """Whether `duration` (None: for ever) outlasts `limit`, both counted from one day."""
    return duration is None or _after(duration) > _after(limit)


def _after(duration: Duration) -> date:
    months = _PROBE.month - 1 + duration.months
    day = _PROBE.replace(year=_PROBE.year + duration.years + months // 12,
                         month=months % 12 + 1)
    return day + timedelta(days=duration.days)


def _changes(scheme: Scheme, overlay: RetentionOverlay) -> list[SetValue]:
    keep: dict[str, Any] = overlay.keep_for.model_dump(exclude_defaults=True)
    note = f"{overlay.title} ({overlay.id})"
    out: list[SetValue] = []
    for rule in scheme.rules:
        if rule.direction != "penalty":
            continue
        gives_points = any(e.kind not in ("list", "reclassify", "unquantified", "set_score")
                           for e in rule.effects)
        if gives_points and _longer(rule.expires_after, overlay.keep_for):
            out.append(SetValue(set=f"{rule.id}.expires_after", to=keep, note=note))
        for i, effect in enumerate(rule.effects):
            lasting = (isinstance(effect, ListEffect) and effect.action == "add") or \
                isinstance(effect, ReclassifyEffect)
            if lasting and _longer(effect.duration, overlay.keep_for):  # type: ignore[union-attr]
                out.append(SetValue(set=f"{rule.id}.effects[{i}].duration", to=keep,
                                    note=note))
    return out


def apply_overlays(scheme: Scheme, overlays: tuple[RetentionOverlay, ...], *,
                   vocabulary: Vocabulary) -> Scheme:
    """`scheme` with every overlay of its province applied (itself when none applies)."""
    for overlay in overlays:
        if scheme.province != overlay.province:
            continue
        changes = _changes(scheme, overlay)
        if changes:
            applied = apply_changes(scheme, changes, reform_id=overlay.id,
                                    vocabulary=vocabulary)
            stamp = applied.reforms[-1].model_copy(update={"title": overlay.title,
                                                           "file": overlay.file})
            scheme = applied.model_copy(update={"id": scheme.id,
                                                "reforms": [*applied.reforms[:-1], stamp]})
    return scheme
