"""A model added as the README's "Add a model" shows: one class, one `register_model` line,
and `keras-vae train --model NAME` trains it with its own flags; no other file touched."""

import json
import os

import keras
import numpy as np
import pytest
from keras import ops

import keras_vae
from keras_vae.app import Setting, registry
from keras_vae.arguments import check_number
from keras_vae.app.commands import train


# --- the README's example, as a user would write it in a file of their own -------------------

@keras.saving.register_keras_serializable(package="my_models")
class ShrinkingAutoencoder(keras_vae.BaseAutoencoder):
    """An autoencoder whose codes are pulled toward 0 by `code_weight` * ||z||^2."""

    metric_names = ("loss", "reconstruction_loss", "code_penalty")

    def __init__(self, encoder, decoder, code_weight=0.1, **kwargs):
        super().__init__(encoder, decoder, **kwargs)
        self.code_weight = float(check_number("code_weight", code_weight, 0))
        self.check_networks()
        self.track_loss_terms()

    def loss_terms(self, x, training=False, seed=None):
        z = self.latent_code(x, training=training)
        reconstruction = self.reconstruction_nll(x, z, training=training)
        penalty = ops.sum(ops.square(z), axis=-1)
        return {"loss": reconstruction + self.code_weight * penalty,
                "reconstruction_loss": reconstruction, "code_penalty": penalty}

    def get_config(self):
        return {**super().get_config(), "code_weight": self.code_weight}

# -----------------------------------------------------------------------------------------------


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setattr(registry, "_BY_NAME", dict(registry._BY_NAME))  # undone after the test
    keras_vae.app.register_model("shrinking", ShrinkingAutoencoder, settings=(
        Setting("code_weight", float, "weight of the code penalty"),))


def test_a_registered_model_trains_from_the_script_with_its_own_flag(tmp_path, registered):
    run_dir = train.main(["--model", "shrinking", "--code-weight", "0.5", "--latent-dim", "2",
                          "--epochs", "2", "--output-dir", str(tmp_path / "run"),
                          "--verbose", "0"])
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["model"] == "shrinking" and config["model_settings"] == {"code_weight": 0.5}
    model = keras.models.load_model(os.path.join(run_dir, "model.keras"))
    assert type(model) is ShrinkingAutoencoder and model.code_weight == 0.5
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    # Its validation loss, recomputed here with numpy from its networks' outputs.
    images = keras_vae.data.binarize_once(
        keras_vae.data.load("digits", None, 0.1, 0).x_val, seed=1)
    z = np.asarray(model.encoder(images), np.float64)
    logits = np.asarray(model.decoder(z.astype(np.float32)), np.float64).reshape(len(z), -1)
    flat = images.reshape(len(z), -1)
    nll = np.sum(np.logaddexp(0, logits) - flat * logits, axis=1)
    np.testing.assert_allclose(metrics["validation"]["loss"],
                               np.mean(nll + 0.5 * np.sum(z ** 2, axis=1)), rtol=1e-4)
    assert "log_likelihood" not in metrics  # no posterior: scored by its reconstructions


def test_its_flag_is_refused_for_another_model_naming_its_model(tmp_path, registered, capsys):
    with pytest.raises(ValueError, match=r"`--code-weight` applies to the shrinking model"):
        train.main(["--model", "vae", "--code-weight", "0.5", "--epochs", "1",
                    "--output-dir", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


def test_its_constructor_validates_the_setting(tmp_path, registered):
    with pytest.raises(ValueError, match=r"`code_weight` must be a number >= 0. "
                                         r"Received: code_weight=-1"):
        train.main(["--model", "shrinking", "--code-weight", "-1", "--epochs", "1",
                    "--output-dir", str(tmp_path / "run"), "--verbose", "0"])


def test_a_setting_that_counts_epochs_names_how_it_fits_the_run():
    with pytest.raises(ValueError, match=r"`within_run` must be None, 'end' or 'before_end'. "
                                         r"Received: within_run='later' for setting 'warm'"):
        Setting("warm", int, "epochs of warm-up", default=0, within_run="later")
    setting = Setting("warm", int, "epochs of warm-up", default=0, within_run="end")
    setting.check_within(5, epochs=5)
    with pytest.raises(ValueError, match=r"`warm` counts epochs of the run and must be at most "
                                         r"`epochs` \(5\). Received: warm=6 with epochs=5"):
        setting.check_within(6, epochs=5)


def test_help_shows_each_default_and_leaves_an_unset_one_to_its_text():
    import argparse

    parser = argparse.ArgumentParser()
    Setting("code_weight", float, "weight of the code penalty").add_to(
        parser, ShrinkingAutoencoder)  # the constructor's default, 0.1
    Setting("widths", int, "hidden widths (100 100 when not given)", default=None,
                      nargs="+").add_to(parser, ShrinkingAutoencoder)
    Setting("sizes", int, "sizes", default=(50, 20), nargs="+").add_to(
        parser, ShrinkingAutoencoder)
    text = " ".join(parser.format_help().split())
    assert "weight of the code penalty (default 0.1)" in text
    assert "sizes (default 50 20)" in text
    assert "(100 100 when not given) " in text + " " and "default None" not in text
