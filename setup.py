"""Package layout only (everything else is in pyproject.toml).

The top-level folders tasks/, model_adapters/, annotate/ and training/ install inside the
giqa_harness namespace (giqa_harness.tasks, ...), so nothing generic lands in site-packages and the
folder names and import names stay the same word. pyproject.toml cannot express "find the packages
below a folder and put them under a prefix", hence these few lines.
"""

from setuptools import find_packages, setup

MAPPED_FOLDERS = ("tasks", "model_adapters", "annotate", "training")

packages = find_packages(include=["giqa_harness", "giqa_harness.*"])
package_dir = {"giqa_harness": "giqa_harness"}
for folder in MAPPED_FOLDERS:
    prefix = f"giqa_harness.{folder}"
    package_dir[prefix] = folder
    packages.append(prefix)
    packages += [f"{prefix}.{sub}" for sub in find_packages(where=folder)]

setup(packages=packages, package_dir=package_dir)
