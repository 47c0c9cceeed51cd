"""Offline commands without their extra, and where the data folder comes from."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from crossingguard.cli.app import app
from crossingguard.errors import DataError
from crossingguard.toolkit.data import paths

# Hides torch from find_spec before the CLI registers its commands, as on a base install.
NO_TORCH = r"""
import importlib.util as u, sys
real = u.find_spec
u.find_spec = lambda name, *a: None if name.split(".")[0] == "torch" else real(name, *a)
sys.argv = ["crossingguard", *sys.argv[1:]]
from crossingguard.cli.app import main
main()
"""


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["train", "configs/mini.yaml"], "train"),
        (["ship", "runs/x"], "ship"),
        (["distill", "teacher-logits", "--data", "x"], "distill"),
        (["export", "some/model", "--no-quantize"], "export"),
    ],
)
def test_offline_command_without_its_extra_exits_2_naming_it(argv, command):
    result = subprocess.run(
        [sys.executable, "-c", NO_TORCH, *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Error: 'crossingguard {command}' needs the train extra: "
        "pip install 'crossingguard[train]'"
    )


def test_hidden_stand_ins_stay_out_of_help():
    result = subprocess.run(
        [sys.executable, "-c", NO_TORCH, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0
    assert " check " in result.stdout and " train " not in result.stdout


@pytest.fixture()
def no_data_setting(monkeypatch):
    monkeypatch.setattr(paths, "_chosen", None)
    monkeypatch.delenv(paths.ENV_VAR, raising=False)


def test_data_dir_env_and_option(no_data_setting, monkeypatch, tmp_path):
    monkeypatch.setenv(paths.ENV_VAR, str(tmp_path))
    assert paths.data_root() == tmp_path.resolve()
    other = tmp_path / "other"
    other.mkdir()
    paths.use_data_dir(other)  # --data-dir wins over the variable
    assert paths.data_root() == other.resolve()


def test_missing_data_folder_names_both_settings(
    no_data_setting, monkeypatch, tmp_path
):
    monkeypatch.setattr(paths, "_REPO_ROOT", tmp_path / "not-a-checkout")
    with pytest.raises(
        DataError, match=r"set \$CROSSINGGUARD_DATA=.* or pass --data-dir"
    ):
        paths.data_root()
    monkeypatch.setenv(paths.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(DataError, match="is not a folder"):
        paths.data_root()


def test_data_dir_option_on_a_command(no_data_setting, tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "data",
            "guard-pairs",
            "--out",
            str(tmp_path / "out"),
            "--data-dir",
            str(tmp_path / "missing"),
        ],
    )
    assert result.exit_code == 2
    assert "--data-dir" in result.output and "is not a folder" in result.output
