"""The documentation builds with no warning, its gallery examples included."""

from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"


def test_sphinx_build_has_no_warnings(tmp_path):
    """Check ``sphinx -W -b html docs`` succeeds (every gallery example runs)."""
    sphinx_main = pytest.importorskip("sphinx.cmd.build").main
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("numpydoc")
    # Build from a copy so that generated files never land in the checkout.
    import shutil

    source = tmp_path / "docs"
    shutil.copytree(
        DOCS,
        source,
        ignore=shutil.ignore_patterns("_build", "generated", "auto_examples"),
    )
    status = sphinx_main(
        ["-W", "-q", "-b", "html", str(source), str(tmp_path / "html")]
    )
    assert status == 0
    assert (tmp_path / "html" / "auto_examples" / "index.html").exists()
