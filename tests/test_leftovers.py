"""What a killed writer leaves behind is removed by the next writer; a live writer's files never are."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from giqa_harness import leftovers
from giqa_harness.leftovers import FOREIGN_STALE_AFTER_S, is_left_over, remove_left_overs, temp_name
from giqa_harness.output import atomic_write_json

# Writes results.json atomically, but stops just before the rename, where a kill leaves the temp file.
KILLED_WRITER = """
import os, sys, time
import giqa_harness.output as output

def stall(src, dst):
    print("written", flush=True)
    time.sleep(600)

output.os.replace = stall
output.atomic_write_json(sys.argv[1], {"run": "killed"})
"""


def start_and_kill(script, *args, until="written"):
    child = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == until
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return child


def test_a_write_killed_before_its_rename_is_cleaned_up_by_the_next_write(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    atomic_write_json(out / "results.json", {"run": "first"})
    start_and_kill(KILLED_WRITER, out / "results.json")
    (left,) = out.glob(".results.json.giqa-tmp.*.tmp")  # the killed run's temporary file
    assert json.loads(left.read_text()) == {"run": "killed"}
    assert json.loads((out / "results.json").read_text()) == {"run": "first"}  # never half replaced

    atomic_write_json(out / "samples_other_task.jsonl", {"run": "next"})  # any later write in the folder
    assert not left.exists()
    assert sorted(p.name for p in out.iterdir()) == ["results.json", "samples_other_task.jsonl"]


def test_a_live_writers_temporary_file_is_kept_until_it_dies(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        name = temp_name(".results.json").replace(f".{os.getpid()}.", f".{sleeper.pid}.")
        (tmp_path / name).write_text("{}")
        assert remove_left_overs(tmp_path) == []
        assert (tmp_path / name).exists()
    finally:
        sleeper.kill()
        sleeper.wait(timeout=30)
    assert remove_left_overs(tmp_path) == [tmp_path / name]
    assert not (tmp_path / name).exists()


def test_this_processs_own_temporary_files_are_kept(tmp_path):
    (tmp_path / temp_name(".x.json")).write_text("{}")
    assert remove_left_overs(tmp_path) == []


def test_another_hosts_temporary_file_is_left_over_only_once_it_is_old(tmp_path, monkeypatch):
    path = tmp_path / temp_name(".results.json")
    path.write_text("{}")
    monkeypatch.setattr(leftovers, "_host", lambda: "another_host")
    assert not is_left_over(path)
    assert is_left_over(path, now=time.time() + FOREIGN_STALE_AFTER_S + 1)


@pytest.mark.parametrize("name", [".results.json.tmp", "notes.tmp", ".x.giqa-tmp.host.notapid.ab.tmp", "data.jsonl"])
def test_files_that_are_not_harness_temporaries_are_never_touched(tmp_path, name):
    (tmp_path / name).write_text("keep me")
    assert remove_left_overs(tmp_path) == []
    assert (tmp_path / name).read_text() == "keep me"
