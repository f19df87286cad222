"""The files shipped inside the package (`data/`, `templates/`), read as text.

They are read from beside this module, where every install puts them (a wheel unpacked into
site-packages, an editable checkout). Only a package that is not on disk as files (imported
from a zip) goes through `importlib.resources`, whose first use imports zipfile, tempfile
and shutil: ~5 ms of the start-up of every command that plans a thread.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).parent


def read_text(relative: str, encoding: str = "utf-8") -> str:
    """The package file `relative` (a `/`-separated path, e.g. "data/tlds.json")."""
    try:
        return (_PACKAGE / relative).read_text(encoding=encoding)
    except OSError:
        from importlib import resources

        return resources.files("threadpost").joinpath(relative).read_text(encoding=encoding)
