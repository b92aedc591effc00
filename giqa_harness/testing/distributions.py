"""Installing a throw-away plugin distribution into a folder, so tests exercise real entry points."""

from __future__ import annotations

import textwrap
from pathlib import Path


def make_distribution(site: Path, name: str, module_source: str, entry_points: dict[str, str],
                      version: str = "1.2.3", other_groups: dict[str, dict[str, str]] | None = None) -> Path:
    """Write ``<module>.py`` and a ``.dist-info`` with ``[giqa_harness]`` entry points (and any
    ``other_groups``, e.g. lmms-eval's ``lmms_eval.models``) into ``site``.

    Put ``site`` on ``sys.path`` (or PYTHONPATH for a subprocess) and importlib.metadata finds the
    distribution exactly as it finds one installed by pip.
    """
    module_name = name.replace("-", "_")
    (site / f"{module_name}.py").write_text(textwrap.dedent(module_source))
    info = site / f"{module_name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    groups = {"giqa_harness": entry_points, **(other_groups or {})}
    text = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()) for group, points in groups.items() if points
    )
    (info / "entry_points.txt").write_text(text)
    return site
