import csv
import json
import os

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.app.commands import train
from keras_vae.app.training import make_optimizer
from tests.helpers import MNIST_DIR

RUN_FILES = {"model.keras", "config.json", "history.csv", "logs", "metrics.json",
             "reconstructions.png", "samples.png"}


def read_history(run_dir):
    with open(os.path.join(run_dir, "history.csv")) as f:
        rows = list(csv.DictReader(f))
    return {key: [float(row[key]) for row in rows] for key in rows[0]}


def test_default_run_on_bundled_digits_writes_the_run_directory(digits_run):
    """conftest.py's run: the defaults with 2 epochs, a latent of 2 and a set evaluation."""
    run_dir = digits_run
    assert RUN_FILES <= set(os.listdir(run_dir))
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["num_train_images"] == 1617 and metrics["binarized"] is True
    history = read_history(run_dir)
    assert len(history["loss"]) == 2
    # The final evaluation scores the same images, with the same noise, as the last epoch's
    # validation did with the same weights.
    for name in ("loss", "reconstruction_loss", "kl_loss", "elbo"):
        np.testing.assert_allclose(metrics["validation"][name], history["val_" + name][-1],
                                   rtol=1e-5)
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    assert isinstance(model, keras_vae.VAE) and model.data_shape == (8, 8, 1)
    # The default cosine schedule has decayed the learning rate to 0 by the last step.
    assert int(model.optimizer.iterations) == 2 * 17
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)
    assert any(f.startswith("events") for f in os.listdir(os.path.join(run_dir, "logs", "train")))
    with open(os.path.join(run_dir, "reconstructions.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_autoencoder_run_writes_reconstruction_metrics_and_no_samples(tmp_path):
    run_dir = train.main(["--model", "autoencoder", "--latent-dim", "2", "--epochs", "2",
                          "--output-dir", str(tmp_path / "ae"), "--verbose", "0"])
    files = set(os.listdir(run_dir))
    assert {"model.keras", "reconstructions.png", "latent_space.png"} <= files
    assert "samples.png" not in files
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["model"] == "Autoencoder" and "log_likelihood" not in metrics
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    assert type(model) is keras_vae.Autoencoder
    # The validation figure is the binarized images' cross-entropy, recomputed here.
    images = keras_vae.data.binarize_once(
        keras_vae.data.load("digits", None, 0.1, 0).x_val, seed=1)
    p = np.clip(np.asarray(model.predict(images, verbose=0), np.float64), 1e-7, 1 - 1e-7)
    expected = -(images * np.log(p) + (1 - images) * np.log1p(-p)).reshape(len(p), -1).sum(1)
    assert metrics["reconstruction_loss"] == pytest.approx(expected.mean(), rel=1e-3)


def test_config_file_reruns_a_run_and_flags_override_it(tmp_path):
    first = train.main(["--epochs", "1", "--latent-dim", "3", "--hidden-units", "32", "16",
                        "--activation", "tanh", "--seed", "5", "--eval-k", "5",
                        "--amortization-images", "0", "--image-log-every", "100", "--output-dir",
                        str(tmp_path / "a"), "--verbose", "0"])
    config_path = os.path.join(first, "config.json")
    second = train.main(["--config", config_path, "--output-dir", str(tmp_path / "b"),
                         "--verbose", "0"])
    assert json.load(open(config_path)) == json.load(open(os.path.join(second, "config.json")))
    np.testing.assert_allclose(read_history(first)["loss"], read_history(second)["loss"],
                               rtol=1e-4)  # same seed, same run
    # Flags override the file's settings; the rest come from the file.
    third = train.config_from_args(*train.parse_args([
        "--config", config_path, "--epochs", "2", "--architecture", "conv", "--lr-schedule",
        "constant", "--learning-rate", "0.003", "--output-dir", str(tmp_path / "c")]))
    assert (third.epochs, third.architecture, third.latent_dim, third.activation) == (
        2, "conv", 3, "tanh")
    assert float(make_optimizer(third, steps_per_epoch=10).learning_rate) == pytest.approx(0.003)


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--latent-dim", "0"], r"`latent_dim` must be an int >= 1.*latent_dim=0"),
        (["--likelihood", "poisson"], r"`likelihood`.*poisson"),
        (["--dataset", "no_such_set"], r"`dataset`.*no_such_set"),
        (["--dataset", "mnist", "--data-dir", "/no/such/dir"], r"`data_dir`.*does not exist"),
        (["--batch-size", "0"], r"`batch_size`"),
        (["--checkpoint-every", "-1"], r"`checkpoint_every` must be a number >= 0"),
        (["--checkpoint-every", "nan"], r"`checkpoint_every` must be a finite number >= 0"),
        (["--prior", "laplace"], r"`prior` must be one of \['mixture', 'normal', 'vamp'\]"),
        (["--posterior", "flow"], r"`posterior` must be one of \['diagonal', 'full', 'iaf'\]"),
        (["--objective", "vr"], r"`objective` must be one of \['annealed', 'betatcvae', "
                                r"'dipvae', 'elbo', 'iwae'\]"),
        (["--beta", "-1"], r"`beta` must be a number >= 0. Received: beta=-1"),
        (["--free-bits", "-0.5"], r"`free_bits` must be a number >= 0"),
        (["--free-bits-decay-epochs", "5"],
         r"`free_bits_decay_epochs` applies only with free bits.*free_bits_decay_epochs=5"),
        (["--objective", "iwae", "--free-bits-decay-epochs", "5"],
         r"`free_bits_decay_epochs` applies only with free bits.*free_bits_decay_epochs=5"),
        (["--beta", "nan"], r"`beta` must be a finite number >= 0. Received: beta=nan"),
        (["--model", "vaegan", "--feature-weight", "inf"],
         r"`feature_weight` must be a finite number >= 0. Received: feature_weight=inf"),
        (["--objective", "iwae", "--k", "0"], r"`k` must be an int >= 1. Received: k=0"),
        (["--k", "3"], r"\['k'\] apply to the iwae objective only"),
        (["--elbo-epochs", "3"], r"\['elbo_epochs'\] apply to the iwae objective only"),
        (["--objective", "iwae", "--elbo-epochs", "-1"], r"`elbo_epochs` must be an int >= 0"),
        (["--epochs", "4", "--objective", "iwae", "--elbo-epochs", "4"],
         r"`elbo_epochs` counts epochs of the run and must be less than `epochs` \(4\).*"
         r"Received: elbo_epochs=4 with epochs=4"),
        (["--epochs", "4", "--free-bits", "0.1", "--free-bits-decay-epochs", "5"],
         r"`free_bits_decay_epochs` counts epochs of the run and must be at most `epochs` \(4\)"
         r".*free_bits_decay_epochs=5 with epochs=4"),
        (["--epochs", "4", "--kl-warmup-epochs", "5"],
         r"`kl_warmup_epochs` counts epochs of the run and must be at most `epochs` \(4\)"),
        (["--flow-steps", "3"], r"\['flow_steps'\] apply to the iaf posterior only"),
        (["--objective", "iwae", "--beta", "2"],
         r"\[.beta.\] apply to the elbo and betatcvae objectives"),
        (["--capacity", "5"], r"\['capacity'\] apply to the annealed objective only"),
        (["--objective", "dipvae", "--lambda-od", "-1"], r"`lambda_od` must be a number >= 0"),
        (["--lambda-od", "5"], r"\['lambda_od'\] apply to the dipvae objective only"),
        (["--objective", "betatcvae", "--posterior", "iaf"],
         r"objective.*betatcvae.*diagonal Gaussian posterior"),
        (["--model", "vae", "--gamma", "3"], r"`--gamma` applies to the factorvae model"),
        (["--prior-components", "4"], r"`prior_components` applies to the mixture and vamp"),
        (["--posterior", "full", "--free-bits", "1"], r"`free_bits` needs a KL that splits"),
        # The bundled digits have 17 grey levels (k / 16), not 8-bit ones.
        (["--likelihood", "discretized_logistic"], r"`dataset` must hold 8-bit images"),
        (["--model", "gan"], r"`model` must be one of \['aae', 'autoencoder', 'cvae', "
                             r"'factorvae', 'gumbel', "
                             r"'hvae', 'ssvae', 'vae', 'vaegan', 'vqvae'\]. Received: "
                             r"model='gan'"),
        (["--model", "autoencoder", "--prior", "vamp"],
         r"`--prior` applies to the cvae and factorvae and ssvae and vae and vaegan model\(s\) "
         r"only"),
        (["--model", "vqvae", "--k", "5"],
         r"`--k` applies to the cvae and factorvae and hvae and ssvae and vae model\(s\) only"),
        (["--model", "autoencoder", "--eval-k", "5"],
         r"`eval_k` does not apply to the autoencoder model"),
    ],
)
def test_bad_settings_fail_before_training(tmp_path, argv, match):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=match):
        train.main(argv + ["--output-dir", str(out), "--verbose", "0"])
    assert not out.exists()  # refused before anything was written


def test_distribution_and_objective_flags_reach_the_saved_model(tmp_path):
    small = ["--hidden-units", "32", "--image-log-every", "100"]
    # The IAF's flags reach its constructor (its config round-trips in test_losses; a run
    # with the VampPrior, the IAF and the IWAE together takes half a minute to trace).
    config = train.config_from_args(*train.parse_args(["--model", "vae", "--posterior",
                                                        "iaf", "--flow-steps", "1"]))
    arguments = config.model_entry.constructor_arguments(config.model_settings, 17)
    assert arguments["posterior"].flow_steps == 1
    # The ELBO's free bits reach its constructor too (they need a closed-form KL: not with
    # the VampPrior of the run below).
    config = train.config_from_args(*train.parse_args(["--model", "vae", "--free-bits", "0.1"]))
    arguments = config.model_entry.constructor_arguments(config.model_settings, 17)
    assert arguments["objective"].get_config()["free_bits"] == 0.1
    run_dir = train.main([*small, "--epochs", "2", "--prior", "vamp", "--prior-components", "3",
                          "--eval-k", "5", "--amortization-images", "4", "--beta", "0.5",
                          "--kl-warmup-epochs", "1", "--mc-samples", "2", "--likelihood",
                          "continuous_bernoulli", "--output-dir", str(tmp_path / "b"),
                          "--verbose", "0"])
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    assert model.prior.components == 3
    assert model.objective.get_config() == {"beta": 0.5, "free_bits": 0.0,
                                            "kl_warmup_steps": 17, "mc_samples": 2,
                                            "gradient": "reparameterization",
                                            "free_bits_decay_steps": 0}
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["prior"] == "vamp" and metrics["kl"] == "monte_carlo"
    assert metrics["binarized"] is False
    assert read_history(run_dir)["kl_weight"][1] == pytest.approx(0.5)  # beta, warm-up over
    run_dir = train.main([*small, "--amortization-images", "0",
                          "--epochs", "2", "--objective", "iwae", "--k", "2", "--free-bits",
                          "0.1", "--free-bits-decay-epochs", "2", "--elbo-epochs", "1",
                          "--eval-k", "5", "--output-dir", str(tmp_path / "c"), "--verbose", "0"])
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    assert model.objective.get_config() == {"k": 2, "free_bits": 0.1,
                                            "free_bits_decay_steps": 34, "elbo_steps": 17}
    assert "iwae_bound" in read_history(run_dir)
    # Each epoch logs its steps' floors, (1 - t / 34) * 0.1 at step t (weighted by batch
    # size): within the first epoch's range, and 17 steps (0.05) lower in the second.
    floors = read_history(run_dir)["free_bits_floor"]
    assert 0.1 * (1 - 16 / 34) < floors[0] < 0.1
    assert floors[0] - floors[1] == pytest.approx(0.05, rel=1e-4)


def test_unknown_config_keys_and_used_output_dirs_are_rejected(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"epochs": 1, "latent_size": 2}))
    with pytest.raises(ValueError, match="latent_size"):
        train.main(["--config", str(bad), "--verbose", "0"])
    bad.write_text(json.dumps({"epochs": 1, "lr_schedule": "linear"}))
    with pytest.raises(ValueError, match=r"`lr_schedule` must be one of.*'linear'"):
        train.main(["--config", str(bad), "--verbose", "0"])
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "model.keras").write_text("an earlier run")
    with pytest.raises(ValueError, match="`output_dir`.*holds other files"):
        train.main(["--epochs", "1", "--output-dir", str(tmp_path / "used"), "--verbose", "0"])


@pytest.mark.slow
def test_short_training_run_on_real_mnist_improves_the_elbo(tmp_path):
    run_dir = train.main([
        "--dataset", "mnist", "--data-dir", MNIST_DIR, "--epochs", "3",
        "--max-train-examples", "3000", "--hidden-units", "200", "--eval-k", "10",
        "--amortization-images", "0", "--output-dir",
        str(tmp_path / "mnist"), "--verbose", "0",
    ])
    history = read_history(run_dir)
    assert history["val_elbo"][-1] > history["val_elbo"][0] + 5.0, history["val_elbo"]
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert metrics["num_validation_images"] == 2434
    # An untrained decoder scores about -784 log 2 = -543 nats; three short epochs halve that.
    assert metrics["validation"]["elbo"] > -250.0


def test_strategy_flag_trains_under_mirrored_strategy_and_refuses_unknown_names(tmp_path):
    run_dir = train.main(["--epochs", "1", "--eval-k", "2", "--amortization-images", "0",
                          "--strategy", "mirrored", "--output-dir", str(tmp_path / "run"),
                          "--verbose", "0"])
    assert json.load(open(os.path.join(run_dir, "config.json")))["strategy"] == "mirrored"
    assert json.load(open(os.path.join(run_dir, "status.json")))["state"] == "complete"
    with pytest.raises(ValueError, match=r"strategy.*'default', 'mirrored', 'multiworker'"):
        train.main(["--strategy", "tpu", "--output-dir", str(tmp_path / "other")])


def test_runs_of_other_seeds_are_scored_on_the_same_binary_images():
    from keras_vae.app.runs import TrainConfig
    from keras_vae.app.training import load_run_data

    def held_out(**settings):
        return load_run_data(TrainConfig.from_dict(settings), verbose=0)

    seed_0, seed_1 = held_out(seed=0), held_out(seed=1)
    assert seed_0.binarize and set(np.unique(seed_0.x_val)) == {0.0, 1.0}
    np.testing.assert_array_equal(seed_0.x_val, seed_1.x_val)
    np.testing.assert_array_equal(seed_0.train_images(0), seed_1.train_images(0))
    # Another split seed holds out other images, binarized with their own seed.
    assert not np.array_equal(seed_0.x_val, held_out(split_seed=1).x_val)


def test_an_abbreviated_flag_is_refused_not_taken_for_another(capsys):
    """argparse takes a prefix of one flag for it: `--k` of a model without it became
    `--kernel-size`, `--latent` `--latent-dim`. Only whole flags are read."""
    from keras_vae.app.commands import evaluate, train

    for parse, argv in ((train.parse_args, ["--latent", "5"]),
                        (train.parse_args, ["--model", "vqvae", "--kernel", "5"]),
                        (evaluate.parse_args, ["run", "--eval", "5"])):
        with pytest.raises(SystemExit):
            parse(argv)
        assert f"unrecognized arguments: {argv[-2]}" in capsys.readouterr().err
