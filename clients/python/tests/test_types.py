"""The type hints hold: mypy --strict on the package (pyproject.toml's [tool.mypy])."""

import pathlib
import subprocess
import sys

PKG = pathlib.Path(__file__).resolve().parents[1]


def test_mypy_strict():
    out = subprocess.run([sys.executable, "-m", "mypy", "src/sfnhooks_client"], cwd=PKG, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
