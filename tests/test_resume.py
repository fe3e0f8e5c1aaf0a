"""Nothing finished is lost (issue 11): a killed run resumes to the weights of an
uninterrupted one, an interrupted final evaluation is finished, checkpoints are written
atomically and never with non-finite weights, divergence stops training with its place named."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
import warnings

import keras
import numpy as np
import pytest

from keras_vae import callbacks as vae_callbacks
from keras_vae.app.runs import TrainConfig, check_config, prepare_run_dir, read_status
from keras_vae.app.training import load_run_data, train
from tests.helpers import REPO, binary_images, small_vae, weights_of
from tests.helpers import RESUME_EPOCHS as EPOCHS, RESUME_FLAGS as FAST


def history_rows(run_dir):
    with open(os.path.join(run_dir, "history.csv")) as f:
        return list(csv.DictReader(f))


def loss_rows(run_dir):
    """`history.csv`'s rows without their times (`train_seconds`, which every run counts from
    its own clock, a resumed one from the seconds of the epochs it kept)."""
    rows = history_rows(run_dir)
    seconds = [float(row.pop("train_seconds")) for row in rows]
    assert np.all(np.diff(seconds) > 0)  # counted on across a resume
    return rows


def train_command(run_dir, epochs, *flags):
    return [sys.executable, os.path.join(REPO, "scripts", "train.py"), "--epochs", str(epochs),
            "--output-dir", str(run_dir), *FAST, *flags]


@pytest.fixture
def reference(uninterrupted_run):
    """The uninterrupted run (conftest.py; the checkpoint interval does not change what a run
    trains, so every interrupted run below is compared with it)."""
    return uninterrupted_run


@pytest.mark.kill
def test_a_run_killed_mid_training_resumes_to_the_uninterrupted_weights(tmp_path, reference):
    """Checkpoints every 0.3 s (several epochs of the bundled digits apart: the epochs since
    the last one are trained again, never lost or logged twice). A checkpoint after every
    epoch is resumed from in the log-likelihood curve's test below."""
    epochs = EPOCHS
    killed = tmp_path / "killed"
    process = subprocess.Popen(train_command(killed, epochs, "--checkpoint-every", "0.3"),
                               cwd=REPO)
    metadata = killed / "backup" / "training_metadata.json"
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        try:
            if json.loads(metadata.read_text())["epoch"] >= 3:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert read_status(killed) == "training"

    # Resumed in this process (the killed one is gone; a second start-up proves nothing more).
    from keras_vae.app.commands import train as train_command_main

    train_command_main.main(train_command(killed, epochs)[2:])
    assert read_status(killed) == "complete" and not (killed / "backup").exists()
    rows, reference_rows = loss_rows(killed), loss_rows(reference)
    assert [row["epoch"] for row in rows] == [str(e) for e in range(epochs)]  # none twice
    assert rows == reference_rows  # the same losses, epoch by epoch, to the last digit
    resumed = keras.models.load_model(killed / "model.keras")
    uninterrupted = keras.models.load_model(reference / "model.keras")
    for a, b in zip(weights_of(resumed), weights_of(uninterrupted)):
        np.testing.assert_array_equal(a, b)


def small_config(run_dir, **changes):
    settings = dict(epochs=2, eval_k=5, amortization_images=0, image_log_every=100,
                    hidden_units=[32])
    return TrainConfig.from_dict({"output_dir": str(run_dir), **settings, **changes})


def test_an_interrupted_final_evaluation_is_finished_without_training_again(tmp_path):
    run_dir, metrics = train(small_config(tmp_path / "run"), verbose=0)
    weights = weights_of(keras.models.load_model(os.path.join(run_dir, "model.keras")))
    # As if killed during the final evaluation: trained, no metrics yet.
    os.remove(os.path.join(run_dir, "metrics.json"))
    with open(os.path.join(run_dir, "status.json"), "w") as f:
        json.dump({"state": "trained"}, f)
    _, again = train(small_config(tmp_path / "run"), verbose=0)
    assert read_status(run_dir) == "complete"
    assert again["log_likelihood"] == pytest.approx(metrics["log_likelihood"], rel=1e-6)
    for a, b in zip(weights, weights_of(keras.models.load_model(
            os.path.join(run_dir, "model.keras")))):
        np.testing.assert_array_equal(a, b)
    assert len(history_rows(run_dir)) == 2


def test_other_settings_in_a_run_directory_are_refused_and_restart_starts_over(tmp_path):
    # A run begun with latent size 20 (its directory as training leaves it after a kill).
    begun = load_run_data(small_config(tmp_path / "run"), verbose=0).config  # defaults filled
    run_dir, _ = prepare_run_dir(begun, restart=False)
    old_checkpoint = os.path.join(run_dir, "model.keras")
    open(old_checkpoint, "wb").close()
    with pytest.raises(ValueError, match=r"other settings.*latent_dim=\(20, 5\)"):
        train(small_config(tmp_path / "run", latent_dim=5), verbose=0)
    assert os.path.getsize(old_checkpoint) == 0  # refused before anything was written
    train(small_config(tmp_path / "run", latent_dim=5), verbose=0, restart=True)
    with open(os.path.join(run_dir, "config.json")) as f:
        assert json.load(f)["latent_dim"] == 5
    assert read_status(run_dir) == "complete"
    assert keras.models.load_model(old_checkpoint).latent_dim == 5  # trained anew


def test_a_run_resumes_from_another_spelling_of_its_data_path_and_not_from_other_data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    images = np.random.default_rng(0).integers(0, 256, (40, 8, 8), dtype=np.uint8)
    np.savez(data / "images.npz", x=images)
    np.savez(data / "other.npz", x=images)
    (tmp_path / "link").symlink_to(data)
    run_dir = tmp_path / "run"

    def config(path):
        return TrainConfig.from_dict({"output_dir": str(run_dir), "data_dir": str(path)})

    prepare_run_dir(config(data / "images.npz"), restart=False)
    # Relative to the working directory, through a link, with a "..": the same file.
    for spelling in (os.path.relpath(data / "images.npz"), tmp_path / "link" / "images.npz",
                     data / ".." / "data" / "images.npz"):
        assert prepare_run_dir(config(spelling), restart=False) == (str(run_dir), "training")
    with pytest.raises(ValueError, match=r"other settings.*data_dir=.*other\.npz"):
        prepare_run_dir(config(data / "other.npz"), restart=False)


def test_a_kill_during_a_checkpoint_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    model = small_vae()
    path = str(tmp_path / "model.keras")
    vae_callbacks.save_model_atomically(model, path)
    before = open(path, "rb").read()

    def killed_while_writing(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"half a zip")
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(keras.Model, "save", killed_while_writing)
    with pytest.raises(KeyboardInterrupt):
        vae_callbacks.save_model_atomically(model, path)
    assert open(path, "rb").read() == before


def test_non_finite_weights_are_never_written(tmp_path):
    model = small_vae()
    path = str(tmp_path / "model.keras")
    vae_callbacks.save_model_atomically(model, path)
    weights = model.get_weights()
    weights[0][0, 0] = np.nan
    model.set_weights(weights)
    with pytest.raises(vae_callbacks.TrainingDiverged, match="1 non-finite weight"):
        vae_callbacks.save_model_atomically(model, path)
    assert np.all([np.isfinite(w).all() for w in keras.models.load_model(path).get_weights()])


def test_divergence_stops_training_naming_epoch_batch_and_term(tmp_path):
    config = small_config(tmp_path / "run", likelihood="gaussian", learning_rate=1e3,
                          lr_schedule="constant", epochs=3)
    with pytest.raises(vae_callbacks.TrainingDiverged,
                       match=r"epoch 1, batch \d+ \(an execution of batches \d+-\d+\): "
                             r"`(loss|reconstruction_loss|kl_loss|elbo)` is (nan|inf|-inf)"):
        train(config, verbose=0)
    assert read_status(config.output_dir) == "training"  # not complete, no metrics.json
    assert not os.path.exists(os.path.join(config.output_dir, "metrics.json"))


def test_an_exploding_loss_is_warned_about():
    guard = vae_callbacks.DivergenceGuard()
    guard.set_model(small_vae())  # 8x8 images: 64 data dimensions
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        guard.on_epoch_end(0, {"loss": 40.0})
        guard.on_epoch_end(1, {"loss": 35.0})
        assert not caught
        guard.on_epoch_end(2, {"loss": 1e4})  # > 35 + 10 * 35
        guard.on_epoch_end(3, {"loss": 1e13})  # > 100 nats per dimension
    assert len(caught) == 2 and "exploded at epoch 3" in str(caught[0].message)


def test_metrics_json_is_strict_json_without_bare_nan():
    from keras_vae.app.reporting import json_safe

    value = {"loss": float("nan"), "terms": [1.0, float("inf"), np.float32("nan")], "k": 5}
    assert json.loads(json.dumps(json_safe(value), allow_nan=False)) == {
        "loss": None, "terms": [1.0, None, None], "k": 5}


def test_sigterm_checkpoints_the_epoch_and_the_run_resumes_with_its_curve(tmp_path, monkeypatch,
                                                                         capsys, reference):
    """The command, in this process, with the reference run's settings, a log-likelihood
    curve every 5 epochs and a checkpoint after every epoch. A SIGTERM during epoch 7 makes
    that epoch the checkpoint and stops the run (exit status 1, saying so); the rerun resumes
    to the uninterrupted run's losses and weights: the reference had no curve, so evaluating
    along the way changes nothing the run trains either. The curve's last row is the final
    evaluation's."""
    from keras_vae.app import cli
    from keras_vae.app.commands import train as train_command_main

    def run(run_dir):
        return cli.run(train_command_main.main, [
            "--epochs", str(EPOCHS), "--output-dir", str(run_dir), *FAST,
            "--log-likelihood-every", "5", "--log-likelihood-k", "5", "--checkpoint-every", "0"])

    evaluate = vae_callbacks.LikelihoodCurve.on_epoch_end

    def interrupted_in_epoch_7(self, epoch, logs=None):
        evaluate(self, epoch, logs)
        if epoch == 6:
            signal.raise_signal(signal.SIGTERM)

    stopped = tmp_path / "stopped"
    monkeypatch.setattr(vae_callbacks.LikelihoodCurve, "on_epoch_end", interrupted_in_epoch_7)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_status:
        run(stopped)
    assert exit_status.value.code == 1
    assert "Stopped by SIGTERM after epoch" in capsys.readouterr().err
    assert read_status(stopped) == "training"
    done = json.loads((stopped / "backup" / "training_metadata.json").read_text())["epoch"]
    assert done == 7 and len(history_rows(stopped)) == done
    monkeypatch.setattr(vae_callbacks.LikelihoodCurve, "on_epoch_end", evaluate)
    run(stopped)
    assert read_status(stopped) == "complete" and not (stopped / "backup").exists()
    resumed = vae_callbacks.read_curve(str(stopped / "log_likelihood_curve.csv"))
    assert [row["epochs_trained"] for row in resumed] == [5, 10, 12]
    # The last row is the final evaluation's estimate: same model, images, K and seed.
    metrics = json.loads((stopped / "metrics.json").read_text())
    assert resumed[-1]["log_likelihood"] == pytest.approx(metrics["log_likelihood"], rel=1e-6)
    # Each row's training time is its epoch's in history.csv, counted on across the stop.
    seconds = [float(row["train_seconds"]) for row in history_rows(stopped)]
    assert [row["train_seconds"] for row in resumed] == pytest.approx(
        [seconds[4], seconds[9], seconds[11]])
    assert loss_rows(stopped) == loss_rows(reference)  # none lost, none twice
    uninterrupted = weights_of(keras.models.load_model(reference / "model.keras"))
    for a, b in zip(uninterrupted, weights_of(keras.models.load_model(
            stopped / "model.keras"))):
        np.testing.assert_array_equal(a, b)


def test_the_log_likelihood_curve_says_each_estimate_as_it_makes_it(tmp_path, capsys):
    config = small_config(tmp_path / "run", epochs=2, log_likelihood_every=1,
                          log_likelihood_k=5, checkpoint_every=0)
    run_dir, _ = train(config, verbose=2)
    rows = vae_callbacks.read_curve(os.path.join(run_dir, "log_likelihood_curve.csv"))
    out = capsys.readouterr().out
    for row in rows:
        assert (f"Epoch {row['epochs_trained']}: held-out log p(x) ~ "
                f"{row['log_likelihood']:.2f} ± {row['log_likelihood_stderr']:.2f} (K = 5"
                in out), out[-2000:]


def test_the_log_likelihood_curve_settings_are_checked():
    with pytest.raises(ValueError, match=r"`log_likelihood_k` applies only with "
                                         r"`log_likelihood_every` > 0.*log_likelihood_k=50"):
        check_config(TrainConfig.from_dict({"log_likelihood_k": 50}))
    with pytest.raises(ValueError, match=r"`log_likelihood_every`.*Received: "
                                         r"log_likelihood_every=-1"):
        check_config(TrainConfig.from_dict({"log_likelihood_every": -1}))
    with pytest.raises(ValueError, match=r"`log_likelihood_every` does not apply to the "
                                         r"autoencoder model"):
        check_config(TrainConfig.from_dict({"model": "autoencoder", "log_likelihood_every": 2}))


def test_a_resumed_curve_drops_the_rows_of_epochs_trained_again(tmp_path):
    """An epoch evaluated, then killed before its backup, is trained and evaluated again:
    its old row goes, the rows of epochs the backup holds stay."""
    path = str(tmp_path / "log_likelihood_curve.csv")
    with open(path, "w") as f:
        f.write("epochs_trained,train_seconds,log_likelihood,log_likelihood_stderr,elbo\n"
                "2,1.5,-90.0,0.5,-95.0\n4,3.0,-89.0,0.5,-94.0\n")
    curve = vae_callbacks.LikelihoodCurve(path, binary_images(4), k=2, every=2, epochs=6,
                                          done=3, seconds_done=2.5)
    assert curve.rows == [{"epochs_trained": 2, "train_seconds": 1.5, "log_likelihood": -90.0,
                           "log_likelihood_stderr": 0.5, "elbo": -95.0}]
    assert curve.seconds == 2.5
