"""The comparison and gradient-variance scripts, run small on the real MNIST."""

import functools
import importlib.util
import json
import os

import numpy as np
import pytest

from experiments import (compare_models, compare_objectives, gradient_variance, lecture_figures,
                     vaegan_ablation)
from keras_vae.callbacks import read_curve
from tests.helpers import MNIST_DIR


@pytest.mark.slow
def test_comparison_writes_its_table_and_reuses_finished_rows(tmp_path):
    output = str(tmp_path / "table.md")
    argv = ["--data-dir", MNIST_DIR, "--rows", "free_bits", "--epochs", "1",
            "--eval-k", "3", "--max-train-examples", "500", "--runs-dir",
            str(tmp_path / "runs"), "--output", output]
    compare_objectives.main(argv)
    text = open(output).read()
    assert "| free_bits | free bits, 0.25 nats per dimension |" in text and "K = 3" in text
    config = json.load(open(os.path.join(tmp_path, "runs", "free_bits", "config.json")))
    assert config["model_settings"]["free_bits"] == 0.25  # the row's setting reached the run
    model_file = os.path.join(tmp_path, "runs", "free_bits", "model.keras")
    os.remove(model_file)
    compare_objectives.main(argv)  # read back from metrics.json, not retrained:
    assert not os.path.exists(model_file)  # a retrained row would write its model again
    with pytest.raises(SystemExit):
        compare_objectives.main(argv[:2] + ["--rows", "nope"])


@pytest.mark.slow
def test_model_comparison_writes_the_metrics_that_apply_and_copies_figures(tmp_path):
    output = str(tmp_path / "models.md")
    figures = tmp_path / "figures"
    results = compare_models.main([
        "--data-dir", MNIST_DIR, "--rows", "autoencoder", "vqvae", "--epochs", "1",
        "--max-train-examples", "2000",
        "--runs-dir", str(tmp_path / "runs"), "--output", output, "--figures-dir",
        str(figures)])
    rows = {line.split("|")[1].strip(): line for line in open(output) if line.startswith("| ")}
    assert set(rows) == {"model", "---", "autoencoder", "vqvae"}
    assert results["vqvae"][1]["codebook_perplexity"] > 1
    assert f"{results['vqvae'][1]['codebook_perplexity']:.1f} (" in rows["vqvae"]
    assert "log_likelihood" not in results["autoencoder"][1]
    assert {"autoencoder-reconstructions.png", "vqvae-samples.png"} <= set(os.listdir(figures))
    assert "autoencoder-samples.png" not in os.listdir(figures)  # it cannot sample


@pytest.mark.slow
def test_lecture_figures_show_what_each_term_does_to_the_codes(tmp_path):
    result = lecture_figures.main(["--data-dir", MNIST_DIR, "--epochs", "1", "--train-images",
                                   "2000", "--held-out", "300", "--latent-sizes", "2", "5",
                                   "--output-dir", str(tmp_path), "--verbose", "0"])
    spread = result["code_spread"]
    # The KL alone pulls every posterior mean toward the prior's mean 0 (well inside its unit
    # scale); the reconstruction alone spreads the codes out, unbounded.
    assert spread["KLOnly"].max() < 0.25 and spread["Autoencoder"].min() > 1.0
    assert set(result["elbo"]) == {2, 5}
    with pytest.raises(ValueError, match=r"`latent_sizes` must be an int >= 1.*=0"):
        lecture_figures.main(["--latent-sizes", "2", "0", "--output-dir", str(tmp_path)])
    assert {"ae_kl_vae_latents.png", "prior_samples_by_latent_dim.png"} <= set(
        os.listdir(tmp_path))


@pytest.mark.slow
def test_gradient_variance_script_reports_both_estimators(tmp_path):
    output = str(tmp_path / "gv.md")
    stats = gradient_variance.main(["--data-dir", MNIST_DIR, "--train-epochs", "0",
                                    "--draws", "8", "--batch-size", "10", "--output", output])
    assert stats["variance_ratio"] > 10
    assert "score_function" in open(output).read()


def test_gradient_variance_script_names_a_missing_model(capsys):
    with pytest.raises(SystemExit) as exit_info:
        gradient_variance.main(["--model", "no/such/model.keras"])
    assert exit_info.value.code == 2
    assert "--model: expected an existing .keras file" in capsys.readouterr().err


@pytest.mark.slow
def test_vaegan_ablation_writes_its_table_and_reuses_finished_rows(tmp_path):
    output = str(tmp_path / "vaegan.md")
    argv = ["--data-dir", MNIST_DIR, "--rows", "default", "unit_variance", "--epochs", "1",
            "--eval-k", "3", "--train-images", "1000", "--held-out", "100", "--runs-dir",
            str(tmp_path / "runs"), "--output", output, "--figures-dir", str(tmp_path / "fig")]
    first = vaegan_ablation.main(argv)
    rows = {line.split("|")[1].strip() for line in open(output) if line.startswith("| ")}
    assert {"default", "unit_variance"} <= rows and "K = 3" in open(output).read()
    # Different models: the unit variance changes what the encoder is trained on.
    assert first["default"][1]["kl_loss"] != first["unit_variance"][1]["kl_loss"]
    assert {"default-samples.png", "unit_variance-reconstructions.png"} <= set(
        os.listdir(tmp_path / "fig"))
    finished = tmp_path / "runs" / "default.json"
    finished.write_text(json.dumps({**first["default"][1], "kl_loss": 123.0}))
    again = vaegan_ablation.main(argv)  # a finished row is read back, not retrained
    assert again["default"][1]["kl_loss"] == 123.0 and "| 123.00 |" in open(output).read()
    with pytest.raises(SystemExit):
        vaegan_ablation.main(argv + ["--train-images", "0"])


@pytest.mark.slow
def test_hierarchy_comparison_reports_each_layer_and_draws_the_curves(tmp_path, monkeypatch):
    from experiments import compare_hierarchy

    # 500 held-out images, not the script's 5,000: each curve point scores all of them.
    monkeypatch.setitem(compare_hierarchy.BASE, "validation_fraction", 500 / 24345)

    output, figures = str(tmp_path / "table.md"), str(tmp_path / "figures")
    argv = ["--data-dir", MNIST_DIR, "--rows", "vae-elbo", "hvae-elbo", "--epochs", "2",
            "--eval-k", "3", "--max-train-examples", "500", "--runs-dir",
            str(tmp_path / "runs"), "--output", output,
            "--figures", figures, "--log-likelihood-every", "1", "--log-likelihood-k", "3"]
    results = compare_hierarchy.main(argv)
    lines = open(output).read().splitlines()
    hvae = [line for line in lines if line.startswith("| hvae-elbo |")][0]
    metrics = results["hvae-elbo"][1]
    assert metrics["latent_sizes"] == [100, 50] and metrics["num_images"] == 500
    # KL and active units of each layer, as metrics.json has them
    assert " + ".join(str(n) for n in metrics["active_units_per_layer"]) in hvae
    # The paired difference with the one-layer row, from the two runs' per-image estimates.
    difference = metrics["log_likelihood"] - results["vae-elbo"][1]["log_likelihood"]
    assert f"| {difference:+.2f} ± " in hvae
    config = json.load(open(os.path.join(tmp_path, "runs", "hvae-elbo", "config.json")))
    assert config["clip_norm"] == 1.0 and config["model_settings"]["free_bits"] == 0.1
    epochs, elbo, minutes = compare_hierarchy.history(os.path.join(tmp_path, "runs",
                                                                   "hvae-elbo"))
    assert epochs == [1, 2] and minutes[0] == 0 and minutes[1] > 0
    assert os.path.getsize(os.path.join(figures, "elbo_curves.png")) > 10_000
    # Each panel plots the rows' values: the ELBO against epochs, then against minutes.
    figure = compare_hierarchy.save_curves(str(tmp_path / "again.png"), str(tmp_path / "runs"),
                                           ["hvae-elbo"])
    for ax, x in zip(figure.axes, (epochs, minutes)):
        np.testing.assert_allclose(np.asarray(ax.lines[0].get_xdata(), float), x)
        np.testing.assert_allclose(np.asarray(ax.lines[0].get_ydata(), float), elbo)
    curve = read_curve(os.path.join(tmp_path, "runs", "hvae-elbo", "log_likelihood_curve.csv"))
    assert [row["epochs_trained"] for row in curve] == [1, 2]
    # The last estimate is the final evaluation's (the same K = 3, images and seed).
    assert curve[-1]["log_likelihood"] == pytest.approx(metrics["log_likelihood"], rel=1e-6)
    assert os.path.getsize(os.path.join(figures, "log_likelihood_curves.png")) > 10_000
    figure = compare_hierarchy.save_likelihood_curves(str(tmp_path / "ll.png"),
                                                      str(tmp_path / "runs"), ["hvae-elbo"])
    np.testing.assert_allclose(np.asarray(figure.axes[0].lines[0].get_ydata(), float),
                               [row["log_likelihood"] for row in curve])
    np.testing.assert_allclose(np.asarray(figure.axes[1].lines[0].get_xdata(), float),
                               [row["train_seconds"] / 60 for row in curve])


def test_each_two_layer_row_is_paired_with_the_one_layer_row_of_its_budget():
    from experiments.compare_hierarchy import one_layer_partner, rows

    names = list(rows())
    assert one_layer_partner("hvae-elbo-300", names) == "vae-elbo-300"
    assert one_layer_partner("hvae-elbo-fbdecay", names) == "vae-elbo"
    assert one_layer_partner("hvae-elbo5-fbdecay", names) == "vae-elbo5"  # 5 samples each
    assert one_layer_partner("hvae-iwae50", names) == "vae-iwae50"
    assert one_layer_partner("hvae-iwae5-fbdecay", names) == "vae-iwae5"
    assert one_layer_partner("hvae-elbo-300", ["vae-elbo"]) is None  # never across budgets
    assert one_layer_partner("vae-elbo-300", names) is None
    assert one_layer_partner("hvae-iwae5", ["vae-elbo"]) is None


@pytest.mark.slow
def test_the_step_time_benchmark_times_each_model_and_writes_its_table(tmp_path):
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks",
                        "hierarchy_step_time.py")
    spec = importlib.util.spec_from_file_location("hierarchy_step_time", path)
    hierarchy_step_time = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hierarchy_step_time)

    output = tmp_path / "step_time.md"
    hierarchy_step_time.main(["--data-dir", MNIST_DIR, "--rounds", "2", "--train-images", "200",
                              "--output", str(output)])
    rows = [line.split(" | ") for line in output.read_text().splitlines()
            if line.startswith("| one layer") or line.startswith("| two layers")]
    assert [(row[0][2:], row[1]) for row in rows] == [
        ("one layer (784-200-200-50)", "1"), ("one layer (784-200-200-50)", "5"),
        ("two layers (the recipe's)", "1"), ("two layers (the recipe's)", "5")]
    seconds = [float(row[2]) for row in rows]
    ratios = [float(row[3].rstrip(" |")) for row in rows]
    assert all(s > 0 for s in seconds)
    # The table rounds seconds to 0.01 and ratios to 0.01: their quotient agrees to that.
    np.testing.assert_allclose(ratios, np.array(seconds) / seconds[0],
                               rtol=0.011 / seconds[0] + 0.01)
    with pytest.raises(SystemExit):
        hierarchy_step_time.main(["--rounds", "1", "--output", str(output)])
    with pytest.raises(SystemExit):
        hierarchy_step_time.main(["--train-images", "0", "--output", str(output)])


def test_disentanglement_comparison_tables_metrics_over_seeds_and_draws_traversals(
        tmp_path, monkeypatch):
    from experiments import disentanglement
    from keras_vae.evaluation import disentanglement as metrics

    # DCI with 5 boosting stages, not 100: the table's making is the point here.
    monkeypatch.setitem(metrics.METRICS, "dci", functools.partial(metrics.dci, trees=5))

    output, figures = str(tmp_path / "table.md"), str(tmp_path / "figures")
    argv = ["--rows", "vae", "--epochs", "1", "--num-images", "100", "--seeds", "1",
            "--points", "20", "--mig-sap-points", "40", "--runs-dir", str(tmp_path / "runs"),
            "--output", output, "--figures", figures, "--network", "disentanglement_lib"]
    disentanglement.main(argv)
    lines = open(output).read().splitlines()
    row = [line for line in lines if line.startswith("| VAE (ELBO) | 1 |")][0]
    # Each cell is from the run's disentanglement.json (one seed here; over seeds, below).
    mig = json.load(open(tmp_path / "runs" / "vae-s1" / "disentanglement.json"))["mig"]
    assert f"{mig:.3f} ± 0.000" == row.split(" | ")[2]
    assert os.path.getsize(os.path.join(figures, "traversals_vae.png")) > 5_000
    config = json.load(open(tmp_path / "runs" / "vae-s1" / "config.json"))
    assert config["model"] == "vae" and config["seed"] == 1
    assert (config["hidden_units"], config["kernel_size"], config["dense_units"]) == (
        [32, 32, 64, 64], 4, [256])  # disentanglement_lib's network
    # Over seeds: each figure's mean and standard deviation.
    runs = [{**{key: 0.1 * seed + i for i, key in enumerate(disentanglement.METRICS)},
             "elbo": -100.0 - seed} for seed in (1, 2, 4)]
    lines = disentanglement.table({"vae": runs}, ["vae", "betavae"], {"vae": "VAE (ELBO)"})
    cells = lines[2].split(" | ")
    assert cells[:2] == ["| VAE (ELBO)", "3"] and len(lines) == 3  # no runs, no row
    migs = np.array([run["mig"] for run in runs])
    assert cells[2] == f"{migs.mean():.3f} ± {migs.std():.3f}" == "0.233 ± 0.125"
    assert cells[-1] == "-102.3 ± 1.2 |"
