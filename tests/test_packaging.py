"""The wheel installs everything inside the giqa_harness namespace, task files included."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_has_no_generic_top_level_names(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("giqa_harness-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"giqa_harness"}
    for expected in ("giqa_harness/tasks/giqa_bench/giqa_des.yaml", "giqa_harness/tasks/__init__.py",
                     "giqa_harness/model_adapters/replay.py", "giqa_harness/annotate/__init__.py",
                     "giqa_harness/training/__init__.py"):
        assert expected in names, expected
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "giqa-harness = giqa_harness.cli:main" in text and "[giqa_harness]" in text
