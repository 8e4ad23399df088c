"""The benchmark script runs end to end and reports every method on every task."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "neighbors.py"


def test_quick_benchmark_writes_every_method_and_task(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("benchmark_neighbors", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--quick", "--n", "1000", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "neighbors.json").read_text())
    assert report["config"]["n"] == 1000
    assert report["machine"]["cpu_count"] >= 1
    assert set(report["datasets"]) == {"uniform", "clustered"}
    for data in report["datasets"].values():
        assert set(data["results"]) == set(module.METHODS)
        for method in module.METHODS:
            for task in module.TASKS:
                entry = data["results"][method][task]
                assert entry["median_s"] > 0 and entry["repeats"] == 1
            # exact methods agree on the graph they build
            assert data["results"][method]["knn"]["num_edges"] == 1000 * 20
            assert data["results"][method]["radius"]["num_edges"] == data["results"]["faiss-cpu"]["radius"]["num_edges"]
        assert 15 < data["mean_capped_neighbours"] < 25
    assert "| trackcore faiss-cpu" in (tmp_path / "neighbors.md").read_text()
