"""creditlab: replay one history of behaviour through documented social-credit schemes.

    >>> import creditlab
    >>> r = creditlab.replay("fixtures/example.yaml", schemes=["fuzhou_yuming"])  # doctest: +SKIP
    >>> r.digest, r.results_frame(), r.ledger_frame()                             # doctest: +SKIP

`creditlab.replay` is the way in for scripts and notebooks. The library lives in
`creditlab.engine` (stages: inputs, scoring, analysis, checks, views); the command line in
`creditlab.cli`; the scheme files in `creditlab.schemes` (package data).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("creditlab")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from creditlab.api import ReplayResult, replay
from creditlab.engine import (
    CreditlabError,
    History,
    LedgerEntry,
    Scheme,
    load_history,
    load_scheme,
    shipped_scheme,
    shipped_schemes,
    shipped_vocabulary,
)

__all__ = [
    "CreditlabError",
    "History",
    "LedgerEntry",
    "ReplayResult",
    "Scheme",
    "__version__",
    "load_history",
    "load_scheme",
    "replay",
    "shipped_scheme",
    "shipped_schemes",
    "shipped_vocabulary",
]
