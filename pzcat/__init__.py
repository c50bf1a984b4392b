"""pzcat: the Photo-z Server as a Git repository.

Every photo-z data product is a versioned YAML manifest under ``manifests/`` plus its files under
``products/<internal_name>/``. This package holds the manifest model, the catalog index, the table
readers, the validation report, the command-line interface and the Python client.
"""

from pzcat.errors import PzcatError

__version__ = "0.1.0"

__all__ = ["PzServer", "PzcatError", "__version__"]


def __getattr__(name: str):
    """``from pzcat import PzServer`` (imported on first use: it needs pandas and astropy)."""
    if name == "PzServer":
        from pzcat.pzserver import PzServer

        return PzServer
    raise AttributeError(name)
