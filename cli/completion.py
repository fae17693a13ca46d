"""Shell completion of the words users type most: scheme ids and event types.

Click completes commands and options by itself once the shell is set up (README,
"Shell completion"); these functions add the values: `--scheme` completes shipped scheme
ids (variants included) and scheme files, and event-type arguments complete the
vocabulary's codes. A value that cannot be listed (a broken installation) completes to
nothing rather than failing the shell.
"""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem

__all__ = ["complete_event_type", "complete_scheme"]


def complete_scheme(ctx: click.Context, param: click.Parameter,
                    incomplete: str) -> list[CompletionItem]:
    """Shipped scheme ids starting with `incomplete`; a path completes as a file."""
    if "/" in incomplete or incomplete.endswith((".yaml", ".yml")):
        return [CompletionItem(incomplete, type="file")]
    try:
        from creditlab.engine.inputs.catalog import shipped_reform_files, shipped_scheme_files

        # A shipped scheme's id is its file's name (a variant's, its reform file's):
        # listing files is instant, loading every scheme to read its id is not.
        ids = sorted(p.stem for p in [*shipped_scheme_files(), *shipped_reform_files()])
    except Exception:  # completion must never break the shell
        return []
    return [CompletionItem(i) for i in ids if i.startswith(incomplete)]


def complete_event_type(ctx: click.Context, param: click.Parameter,
                        incomplete: str) -> list[CompletionItem]:
    """Event-type codes of the vocabulary starting with `incomplete`."""
    try:
        from creditlab.engine.inputs.vocabulary import shipped_vocabulary

        events: Any = shipped_vocabulary().events
    except Exception:  # completion must never break the shell
        return []
    return [CompletionItem(code) for code in sorted(events) if code.startswith(incomplete)]
