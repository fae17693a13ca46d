"""Repeat offences: points that grow when the same rule is broken again within a window.

A scheme-level list, like `cap_groups`: each repeat names the rules it applies to, the
window in which an earlier offence makes the next one a repeat, and the factor a repeat's
points are multiplied by ("在原减分分值基础上加倍减分": doubled from the original points).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from creditlab.engine.inputs.scheme_values import Cited, Duration, Exact

__all__ = ["Repeat"]


class Repeat(Cited):
    """Repeat offences of the listed rules, whose points are multiplied by `factor`.

    An entry of a listed rule that its own limits did not block (`same_act_as`,
    `frequency`) is a repeat when the subject has an earlier such entry of the same rule
    (one its limits did not block either) still within `within` of it: on day d, with the
    earlier entry on day e, while d < e + `within`. `within: validity` is the earlier
    entry's validity period (its rule's `expires_after`): while the earlier offence's
    points still count. A repeat's points are the rule's points times `factor`, applied
    like any points (before the rule's cap, its cap group's and the scale's clamp; the
    rule's lapse reverses what was applied). The factor is relative to the rule's own
    points, so a third offence is multiplied once, as the second is, never twice. Only
    the most recent earlier entry matters: d < e + `within` for an earlier e holds for
    every later one. Each rule is in at most one repeat; references are checked at load
    (`inputs.load`).
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    rules: list[str] = Field(min_length=1)
    within: Literal["validity"] | Duration
    factor: Exact

    @field_validator("factor")
    @classmethod
    def _positive(cls, value: Exact) -> Exact:
        if value <= 0:
            raise ValueError("a repeat's factor is above 0")
        return value

    @property
    def window_name(self) -> str:
        """`validity`, or the window as an ISO 8601 duration (`P1Y`, `P30D`)."""
        if isinstance(self.within, str):
            return self.within
        d = self.within
        return "P" + "".join(f"{n}{unit}" for n, unit in ((d.years, "Y"), (d.months, "M"),
                                                          (d.days, "D")) if n)
