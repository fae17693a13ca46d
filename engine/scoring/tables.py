"""A replay's results and ledger as Arrow tables: the form both backends share at scale.

The durable_rules backend gives records (`Outcome`, `LedgerEntry`); the columnar backend
gives tables. `results_table` and `ledger_table` turn records into the same tables, so
that the digest (`scoring/digest.py`), the Parquet files and a city's population tables
are computed one way whatever the backend.

Numbers are `decimal128(38, 9)`: exact for every value the engine accepts with at most
nine decimals (a scheme's points and an event's quantities are far from that). A number
with more decimals is refused, never rounded. `changes` and `notes` are the canonical
JSON text of the entry's records.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pyarrow as pa

from creditlab.engine.canonical import dumps
from creditlab.engine.errors import EngineError
from creditlab.engine.scoring.ledger import LedgerEntry, record
from creditlab.engine.scoring.outcome import Outcome

__all__ = ["DECIMALS", "LEDGER_SCHEMA", "NUMBER", "RESULTS_SCHEMA", "ledger_table",
           "results_table"]

DECIMALS = 9
NUMBER = pa.decimal128(38, DECIMALS)
"""The Arrow type of every score and point count in a results or ledger table."""

RESULTS_SCHEMA = pa.schema([
    ("subject", pa.string()), ("scheme", pa.string()), ("start", NUMBER), ("score", NUMBER),
    ("band", pa.string()), ("flags", pa.list_(pa.string())), ("events_scored", pa.int64()),
    ("events_unscored", pa.int64()),
])

LEDGER_SCHEMA = pa.schema([
    ("position", pa.int64()), ("scheme_index", pa.int32()), ("order", pa.int32()),
    ("kind", pa.string()), ("at", pa.date32()), ("event", pa.string()), ("type", pa.string()),
    ("subject", pa.string()), ("scheme", pa.string()), ("rule", pa.string()),
    ("points", NUMBER), ("applied", NUMBER), ("score_before", NUMBER), ("score_after", NUMBER),
    ("band_before", pa.string()), ("band_after", pa.string()), ("changes", pa.string()),
    ("notes", pa.string()), ("fidelity", pa.string()),
])
"""`position` is the triggering event's index in replay order (finish lapses: the number
of events), `scheme_index` the scheme's index among the replayed schemes sorted by id,
`order` the entry's index within (position, scheme): together, replay order. A backend may
give the few-valued text columns (kind, type, scheme, rule, bands, changes, notes,
fidelity) as dictionaries of the same values (the columnar backend does:
`scoring.columnar.ledger_table.LEDGER_TYPES`); the digest and the files read both."""


def _exact(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    scaled = value.scaleb(DECIMALS)
    if scaled != scaled.to_integral_value():
        raise EngineError(f"the number {value} has more than {DECIMALS} decimals; a results "
                          "table holds it only rounded, and creditlab does not round")
    return value.quantize(Decimal(1).scaleb(-DECIMALS))


def results_table(outcomes: Sequence[Outcome]) -> pa.Table:
    """Outcomes as a results table, in the order given."""
    return pa.Table.from_pylist([
        {"subject": o.subject, "scheme": o.scheme, "start": _exact(o.start),
         "score": _exact(o.score), "band": o.band, "flags": list(o.flags),
         "events_scored": o.events_scored, "events_unscored": o.events_unscored}
        for o in outcomes], schema=RESULTS_SCHEMA)


def ledger_table(entries: Sequence[LedgerEntry], schemes: Sequence[str],
                 positions: Sequence[int]) -> pa.Table:
    """Ledger entries (in replay order) as a ledger table.

    `schemes` are the replayed scheme ids sorted; `positions[i]` is the position of the
    event that gave `entries[i]` (the number of events for a finish lapse).
    """
    index = {s: i for i, s in enumerate(schemes)}
    rows = []
    previous: tuple[int, int] | None = None
    order = 0
    for entry, position in zip(entries, positions, strict=True):
        key = (position, index[entry.scheme])
        order = order + 1 if key == previous else 0
        previous = key
        rows.append({
            "position": position, "scheme_index": key[1], "order": order, "kind": entry.kind,
            "at": entry.at, "event": entry.event, "type": entry.type, "subject": entry.subject,
            "scheme": entry.scheme, "rule": entry.rule, "points": _exact(entry.points),
            "applied": _exact(entry.applied), "score_before": _exact(entry.score_before),
            "score_after": _exact(entry.score_after), "band_before": entry.band_before,
            "band_after": entry.band_after,
            "changes": dumps([record(c) for c in entry.changes]),
            "notes": dumps([record(n) for n in entry.notes]), "fidelity": entry.fidelity,
        })
    return pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA)
