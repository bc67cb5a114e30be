"""The package as a user gets it: a wheel (python -m build), installed from the
file into a new virtualenv in a temporary folder outside the repository, and a
script there that imports it and resumes an execution of make dev's approval
example."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import zipfile

from conftest import uniq

PKG = pathlib.Path(__file__).resolve().parents[1]

SCRIPT = """
import sys, time
from sfnhooks_client import get_hook, resume_hook
token = sys.argv[1]
for _ in range(300):
    try:
        if get_hook(token)["waiting"]:
            break
    except Exception:
        pass
    time.sleep(0.1)
hook = resume_hook(token, {"approved": True, "comment": "from the wheel"})
print(__import__("json").dumps(hook))
"""


def test_wheel_installs_elsewhere_and_resumes(dev, tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(PKG)], check=True,
                   capture_output=True, text=True)
    (wheel,) = dist.glob("sfnhooks_client-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("sfnhooks_client/__init__.py", "sfnhooks_client/client.py", "sfnhooks_client/errors.py",
              "sfnhooks_client/contract.json", "sfnhooks_client/py.typed"):
        assert f in names, f
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)], check=True)
    app = tmp_path / "app"
    app.mkdir()
    (app / "resume.py").write_text(SCRIPT)
    order = uniq("wheel")
    exe = dev.start("approval", {"orderId": order})
    env = {**os.environ, "SFNHOOKS_ENDPOINT": dev.api, "PYTHONPATH": ""}
    out = subprocess.run([str(py), "resume.py", f"approval-{order}"], cwd=app, env=env, check=True, capture_output=True, text=True)
    assert json.loads(out.stdout)["runId"] == exe
    done = dev.finished(exe)
    assert done["status"] == "SUCCEEDED"
    assert done["output"]["decision"] == {"approved": True, "comment": "from the wheel"}
