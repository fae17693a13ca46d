"""Package marker only: the scheme files beside it are data (YAML), never code."""
