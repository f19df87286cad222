"""The package's own files (`data/`, `templates/`) are read from beside the code, and
through importlib.resources when the package is not on disk as files (imported from a zip)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import threadpost
from threadpost.package_data import read_text

PACKAGE = Path(threadpost.__file__).parent


def test_reads_the_files_installed_beside_the_code() -> None:
    assert read_text("data/tlds.json") == (PACKAGE / "data/tlds.json").read_text("utf-8")
    assert read_text("data/conjuncts.txt", encoding="ascii").startswith("#")
    assert "$title" in read_text("templates/new-draft.md")


def test_a_package_imported_from_a_zip_reads_them_through_importlib_resources(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "threadpost.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in PACKAGE.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                zipped.write(path, Path("threadpost") / path.relative_to(PACKAGE))
    probe = (
        "import threadpost.package_data as p; "
        "assert '.zip' in p.__file__, p.__file__; "
        "print(len(p.read_text('data/tlds.json')))"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(archive)!r}); {probe}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(read_text("data/tlds.json"))


def test_planning_a_thread_does_not_import_importlib_resources() -> None:
    """Its first use imports zipfile, tempfile and shutil: ~5 ms of every start-up."""
    probe = (
        "import sys; from threadpost.draft import parse_draft; "
        "from threadpost.plan import plan_thread; "
        "from threadpost.platforms.rules import rules_for; "
        "import threadpost.text.tlds as t; t.npm_tlds(); t.twitter_text_tlds(); "
        "import threadpost.text.graphemes as g; g._conjunct_data(); "
        "print(sorted(m for m in ('importlib.resources', 'zipfile') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
