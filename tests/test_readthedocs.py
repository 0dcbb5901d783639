"""``.readthedocs.yaml`` against Read the Docs' own schema (check-jsonschema's built-in copy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

pytestmark = [pytest.mark.slow]


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.readthedocs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_readthedocs_config_is_valid():
    result = validate(REPO / ".readthedocs.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_config(tmp_path):
    broken = tmp_path / ".readthedocs.yaml"
    config = yaml.safe_load((REPO / ".readthedocs.yaml").read_text(encoding="utf-8"))
    config["sphinx"]["fail_on_warning"] = "yes please"
    broken.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert validate(broken).returncode != 0


def test_readthedocs_builds_our_conf_strictly_from_our_pins():
    config = yaml.safe_load((REPO / ".readthedocs.yaml").read_text(encoding="utf-8"))
    assert (REPO / config["sphinx"]["configuration"]).is_file()
    assert config["sphinx"]["fail_on_warning"] is True
    assert {"requirements": "requirements.txt"} in config["python"]["install"]


def test_readthedocs_makes_the_pdfs_with_typst_and_no_tex():
    config = yaml.safe_load((REPO / ".readthedocs.yaml").read_text(encoding="utf-8"))
    commands = " ".join(config["build"]["jobs"]["post_build"])
    assert "-b typst" in commands and "-d _build/doctrees" in commands
    assert not any(word in commands for word in ("latex", "xelatex", "latexmk"))
    assert not any("tex" in package for package in config["build"].get("apt_packages", []))
