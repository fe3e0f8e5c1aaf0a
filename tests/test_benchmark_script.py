import os

import pytest

from benchmarks import benchmark, harness


@pytest.mark.slow
def test_benchmark_runs_the_package_and_the_keras_reference_and_writes_a_table(tmp_path):
    output = str(tmp_path / "benchmarks.md")
    with open(output, "w") as f:
        f.write(f"# Old\n\n| old | table |\n\n{benchmark.NOTES_HEADING}\n\nKeep me.\n")
    benchmark.main(["--rounds", "1", "--epochs", "1", "--skip-torch", "--train-images", "1000",
                    "--is-images", "3", "--is-k", "50", "--memory-copies", "1",
                    "--output", output])
    text = open(output).read()
    assert "| keras_vae |" in text and "| keras_io |" in text and "| keras_vae_is |" in text
    assert "keras_vae / keras_io" in text and "GFLOP/s" in text
    assert "| 1,000 |" in text.split("## Peak memory")[1]  # one copy of --train-images
    assert "| old | table |" not in text
    assert text.endswith(f"{benchmark.NOTES_HEADING}\n\nKeep me.\n")
    assert "pytorch" not in text.split("## Importance")[0].split("| --- |")[1]


def test_a_failing_program_is_reported_with_its_error(tmp_path):
    with pytest.raises(RuntimeError, match="package_run.py failed"):
        harness.run("package_run.py", "--batch-size", "0")
    assert os.path.isdir(harness.BENCH)
