"""creditlab: replay one history of behaviour through documented social-credit schemes.

The library lives in `creditlab.engine`; the command line in `creditlab.cli`; the
scheme files in `creditlab.schemes` (package data).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("creditlab")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
