"""The prepared benchmark scripts still run: the GPU suite's CPU dry run (a config builds and
takes one training step) and its handling of data that needs a download."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_script(name: str):
    sys.path.insert(0, str(REPO / "benchmarks"))  # the scripts import their siblings
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_suite_dry_run(tmp_path, monkeypatch):
    suite = load_script("gpu_suite")
    monkeypatch.setattr(suite, "needs_download", lambda path: "cifar10" in path)
    out = tmp_path / "suite.json"
    status = suite.main(
        [
            "--dry-run",
            "--configs",
            "configs/mlp_digits.yaml",
            "configs/perceptron_iris.yaml",
            "configs/notes/003_2_13_cifar10_cnn.yaml",
            "--json",
            str(out),
        ]
    )
    assert status == 0
    rows = {row["config"]: row for row in json.loads(out.read_text())["configs"]}
    assert rows["configs/mlp_digits.yaml"]["status"] == "ok"
    assert rows["configs/mlp_digits.yaml"]["parameters"] == 4810
    assert rows["configs/perceptron_iris.yaml"]["status"] == "ok"
    assert rows["configs/notes/003_2_13_cifar10_cnn.yaml"]["status"] == "skipped"


def test_gpu_suite_lists_every_config():
    suite = load_script("gpu_suite")
    configs = suite.all_configs()
    assert "configs/mlp_digits.yaml" in configs
    assert any(path.startswith("configs/notes/") for path in configs)
    assert set(suite.THROUGHPUT_CONFIGS) <= set(configs)
