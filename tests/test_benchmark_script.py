import os

import pytest

from benchmarks import benchmark, harness


@pytest.mark.slow
def test_benchmark_runs_the_package_and_the_keras_reference_and_writes_a_table(tmp_path):
    output = str(tmp_path / "benchmarks.md")
    with open(output, "w") as f:
        f.write(f"# Old\n\n| old | table |\n\n{benchmark.NOTES_HEADING}\n\nKeep me.\n")
    # No memory benchmark (`--memory-copies` without sizes): its three processes took a
    # third of this test, and CI's time is at its budget (docs/results/test_suite.md).
    benchmark.main(["--rounds", "1", "--epochs", "1", "--skip-torch", "--train-images", "1000",
                    "--is-images", "3", "--is-k", "50", "--memory-copies",
                    "--output", output])
    text = open(output).read()
    assert "| keras_vae |" in text and "| keras_io |" in text and "| keras_vae_is |" in text
    assert "keras_vae / keras_io" in text and "GFLOP/s" in text
    assert "## Peak memory" not in text  # not measured, not claimed
    assert "| old | table |" not in text
    assert text.endswith(f"{benchmark.NOTES_HEADING}\n\nKeep me.\n")
    assert "pytorch" not in text.split("## Importance")[0].split("| --- |")[1]


def test_a_failing_program_is_reported_with_its_error(tmp_path):
    # A program that fails at once (a benchmark's own would import TensorFlow first).
    (tmp_path / "failing.py").write_text("import sys\nsys.exit('no data here')\n")
    with pytest.raises(RuntimeError, match=r"failing.py failed \(1\):\nno data here"):
        harness.run(str(tmp_path / "failing.py"))
    assert os.path.isdir(harness.BENCH)
