import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae.app.commands import export as export_script
from tests.helpers import binary_images, small_vae

SIGNATURES = {"serving_default", "encode", "decode", "sample", "elbo"}


@pytest.fixture(scope="module")
def trained():
    model = small_vae(likelihood=keras_vae.Gaussian())
    x = binary_images(64)
    model.fit(x, epochs=2, batch_size=16, verbose=0)
    return model, x[:5]


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("export") / "vae" / "1")
    return keras_vae.export_saved_model(trained[0], path)


CHILD = textwrap.dedent("""
    import sys
    sys.modules["keras_vae"] = None  # the export must serve without the package
    try:
        import keras_vae  # noqa: F401
        raise SystemExit("keras_vae was importable")
    except ImportError:
        pass
    import numpy as np
    import tensorflow as tf

    path, inputs, out = sys.argv[1:]
    x = np.load(inputs)
    loaded = tf.saved_model.load(path)
    sig = loaded.signatures
    z_dim = sig["decode"].structured_input_signature[1]["z"].shape[-1]
    z = np.linspace(-2, 2, 3 * z_dim, dtype="float32").reshape(3, z_dim)
    outputs = {"signatures": np.array(sorted(sig.keys()))}
    outputs["reconstructions"] = sig["serving_default"](images=tf.constant(x))["reconstructions"]
    for key, value in sig["encode"](images=tf.constant(x)).items():
        outputs[key] = value
    outputs["decoded"] = sig["decode"](z=tf.constant(z))["images"]
    for repeat in ("a", "b"):
        outputs["sample_" + repeat] = sig["sample"](n=tf.constant(4), seed=tf.constant(11))["images"]
    outputs["sample_other"] = sig["sample"](n=tf.constant(4), seed=tf.constant(12))["images"]
    for key, value in sig["elbo"](images=tf.constant(x), seed=tf.constant(3)).items():
        outputs["elbo_" + key] = value
    np.savez(out, **{k: np.asarray(v) for k, v in outputs.items()})
""")


def test_export_serves_every_signature_without_the_package(trained, exported, tmp_path):
    model, x = trained
    np.save(tmp_path / "x.npy", x)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run([sys.executable, str(script), exported, str(tmp_path / "x.npy"),
                    str(tmp_path / "out.npz")], check=True, cwd=tmp_path, env=env)
    out = np.load(tmp_path / "out.npz")
    assert set(out["signatures"]) == SIGNATURES
    z_dim = model.latent_dim
    z = np.linspace(-2, 2, 3 * z_dim, dtype="float32").reshape(3, z_dim)
    z_mean, z_log_var = model.encode(x)
    terms = model.loss_terms(x, seed=3)
    expected = {
        "reconstructions": model.predict(x, verbose=0),
        "z_mean": z_mean, "z_log_var": z_log_var,
        "decoded": model.decode(z),
        "sample_a": model.sample(4, seed=11),
        "elbo_elbo": terms["elbo"],
        "elbo_reconstruction_loss": terms["reconstruction_loss"],
        "elbo_kl_loss": terms["kl_loss"],
    }
    for key, value in expected.items():
        np.testing.assert_allclose(out[key], np.asarray(value), atol=1e-5, rtol=1e-5,
                                   err_msg=key)
    np.testing.assert_array_equal(out["sample_a"], out["sample_b"])
    assert not np.allclose(out["sample_a"], out["sample_other"])
    assert out["reconstructions"].shape == (5, 8, 8, 1)


def _cli(*args):
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([cli, *args], check=True, capture_output=True, text=True, env=env)


def test_saved_model_cli_shows_and_runs_the_export(trained, exported, tmp_path):
    model, x = trained
    shown = _cli("show", "--dir", exported, "--all").stdout
    for name in SIGNATURES:
        assert f"signature_def['{name}']" in shown
    assert "shape: (-1, 8, 8, 1)" in shown
    np.save(tmp_path / "images.npy", x)
    _cli("run", "--dir", exported, "--tag_set", "serve", "--signature_def", "serving_default",
         "--inputs", f"images={tmp_path / 'images.npy'}", "--outdir", str(tmp_path / "out"))
    served = np.load(tmp_path / "out" / "reconstructions.npy")
    np.testing.assert_allclose(served, model.predict(x, verbose=0), atol=1e-5)


def test_wrong_shape_or_dtype_fails_at_the_input(exported):
    serve = tf.saved_model.load(exported).signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Shape of tensor images \[2,28,28,1\] is not compatible with "
                             r"expected shape \[\?,8,8,1\]"):
        serve(images=tf.zeros((2, 28, 28, 1)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a float tensor"):
        serve(images=tf.zeros((2, 8, 8, 1), tf.int32))


def test_tfsm_layer_wraps_the_export_in_a_keras_model(trained, exported):
    model, x = trained
    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.TFSMLayer(exported, call_endpoint="serving_default")(inputs)
    wrapper = keras.Model(inputs, outputs)
    np.testing.assert_allclose(wrapper.predict(x, verbose=0)["reconstructions"],
                               model.predict(x, verbose=0), atol=1e-5)
    encoder = keras.layers.TFSMLayer(exported, call_endpoint="encode")
    np.testing.assert_allclose(encoder(x)["z_mean"], model.encode(x)[0], atol=1e-5)


def test_metadata_says_what_a_client_needs(exported):
    with open(os.path.join(exported, "assets.extra", "keras_vae.json")) as f:
        metadata = json.load(f)
    assert metadata["input_shape"] == [8, 8, 1] and metadata["latent_dim"] == 3
    assert metadata["likelihood"]["class_name"] == "Gaussian"
    assert set(metadata["signatures"]) == SIGNATURES
    assert metadata["keras_vae_version"] == keras_vae.__version__


def test_versions_count_up_and_are_never_overwritten_unasked(trained, tmp_path):
    model, x = trained
    base = str(tmp_path / "models")
    first = keras_vae.export_version(model, "vae", base_dir=base)
    second = keras_vae.export_version(model, "vae", base_dir=base)
    assert first.endswith(os.path.join("vae", "1")) and second.endswith(os.path.join("vae", "2"))
    with pytest.raises(ValueError, match=r"`version` names an export that exists"):
        keras_vae.export_version(model, "vae", version=1, base_dir=base)
    with pytest.raises(ValueError, match="`path` must not hold an export"):
        keras_vae.export_saved_model(model, first)
    assert keras_vae.export_version(model, "vae", version=1, base_dir=base, overwrite=True)
    with pytest.raises(ValueError, match="`name`"):
        keras_vae.export_version(model, "../escape", base_dir=base)


def test_untrained_models_export_with_a_warning_and_other_models_fail_clearly(tmp_path):
    with pytest.warns(UserWarning, match="not been trained"):
        keras_vae.export_saved_model(small_vae(compile=False), str(tmp_path / "a"))
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(TypeError, match=r"`model` must be a keras_vae model.*Sequential"):
        keras_vae.export_saved_model(plain, str(tmp_path / "b"))


def test_export_script_takes_a_run_directory(digits_run, tmp_path, capsys):
    run_dir = digits_run
    base = str(tmp_path / "saved_models")
    path = export_script.main([run_dir, "--name", "digits", "--base-dir", base])
    assert capsys.readouterr().out.strip().endswith(path)
    assert path == os.path.join(base, "digits", "1")
    metadata = json.load(open(os.path.join(path, "assets.extra", "keras_vae.json")))
    assert metadata["training_data"] == {"dataset": "digits", "dynamically_binarized": True}
    again = export_script.main([os.path.join(run_dir, "model.keras"), "--name", "digits",
                                "--base-dir", base])
    assert again == os.path.join(base, "digits", "2")
    with pytest.raises(ValueError, match="`model` must be a .keras file"):
        export_script.main([str(tmp_path), "--name", "x", "--base-dir", base])
