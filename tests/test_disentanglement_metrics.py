"""The disentanglement metrics against answers known without them: the factors themselves as
the representation score perfectly, a duplicated factor loses exactly its gap, noise scores
chance, a rotation of the factors mixes them."""

import math

import numpy as np
import pytest

from keras_vae.evaluation import disentanglement as metrics


class FactorsAsImages:
    """A ground-truth dataset whose 'images' are the factor values themselves (as
    disentanglement_lib's `IdentityObservationsData`)."""

    factor_sizes = (4, 5, 8)

    def sample_factors(self, n, rng):
        return np.stack([rng.integers(0, size, n) for size in self.factor_sizes], axis=1)

    def images(self, factors):
        return np.asarray(factors, np.float64)


DATA = FactorsAsImages()
SMALL = {"num_train": 2000}


def identity(images):
    return images


def noise(images):
    return np.random.default_rng(len(images)).normal(size=(len(images), 3))


def duplicated(images):
    return np.concatenate([images[:, :1], images], axis=1)


def rotated(images):
    # Every code an equal-weighted mix of the (centred, scaled) factors.
    scaled = (images - np.array([1.5, 2.0, 3.5])) / np.array([4, 5, 8])
    rotation = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    return scaled @ rotation


def test_mutual_information_of_a_uniform_factor_with_itself_is_log_of_its_values():
    factors = np.repeat(np.arange(8), 100)[:, None]
    information = metrics.mutual_information(metrics.histogram_discretize(factors, 20), factors)
    assert information[0, 0] == pytest.approx(math.log(8), abs=1e-9)


def test_the_factors_themselves_score_perfectly():
    assert metrics.mig(DATA, identity, **SMALL)["mig"] > 0.98  # the gap's bias is ~1e-2
    assert metrics.beta_vae_score(DATA, identity, num_train=300, num_eval=200,
                                  batch_size=16)["eval_accuracy"] == 1.0
    assert metrics.factor_vae_score(DATA, identity, num_train=300, num_eval=200,
                                    num_variance_estimate=2000)["eval_accuracy"] == 1.0
    dci = metrics.dci(DATA, identity, num_train=1000, num_test=500)
    assert dci["disentanglement"] > 0.95 and dci["completeness"] > 0.95
    assert dci["informativeness_test"] == 1.0
    # A linear SVM on one code tells a factor's values apart only partly (one-vs-rest on a
    # line), so SAP stays below 1; each factor's own code beats the others' (at chance).
    scores = np.array(metrics.sap(DATA, identity, num_train=1000, num_test=500)["score_matrix"])
    for j, size in enumerate(DATA.factor_sizes):
        others = np.delete(scores[:, j], j)
        assert scores[j, j] > others.max() + 0.2
        assert np.all(np.abs(others - 1 / size) < 0.15)


def test_a_duplicated_factor_loses_its_gap_and_its_completeness():
    result = metrics.mig(DATA, duplicated, **SMALL)
    # Factor 0 is carried by two codes with the same information: its gap is exactly 0;
    # the others keep theirs (about 1).
    assert result["mig_per_factor"][0] == pytest.approx(0.0, abs=1e-12)
    assert result["mig"] == pytest.approx(2 / 3, abs=0.02)
    sap = metrics.sap(DATA, duplicated, num_train=1000, num_test=500)
    assert sap["score_matrix"][0][0] == sap["score_matrix"][1][0]
    # The importance of two identical codes for factor 0 split evenly would make its
    # completeness 1 - H_4(1/2, 1/2) = 1/2: the closed form of `dci_from_importance`.
    importance = np.diag([1.0, 1.0, 1.0])
    importance = np.vstack([importance[:1] / 2, importance[:1] / 2, importance[1:]])
    expected_completeness = (1 / 3) * (1 - math.log(2) / math.log(4)) + 2 / 3
    assert metrics.dci_from_importance(importance)["completeness"] == pytest.approx(
        expected_completeness, abs=1e-6)
    assert metrics.dci_from_importance(importance)["disentanglement"] == pytest.approx(1.0,
                                                                                        abs=1e-6)


def test_noise_scores_chance():
    assert metrics.mig(DATA, noise, **SMALL)["mig"] < 0.05
    # A classifier of 3 factors at chance: a third.
    beta = metrics.beta_vae_score(DATA, noise, num_train=300, num_eval=300, batch_size=16)
    assert abs(beta["eval_accuracy"] - 1 / 3) < 0.1
    assert metrics.sap(DATA, noise, num_train=1000, num_test=500)["sap"] < 0.05
    dci = metrics.dci(DATA, noise, num_train=1000, num_test=500)
    assert dci["disentanglement"] < 0.1


def test_a_rotation_keeps_the_information_but_mixes_the_factors():
    mixed = metrics.mig(DATA, rotated, **SMALL)["mig"]
    assert mixed < 0.5
    dci = metrics.dci(DATA, rotated, num_train=1000, num_test=500)
    assert dci["disentanglement"] < 0.7
    assert dci["informativeness_test"] > 0.7  # the factors can still be read off


def test_collapsed_codes_are_pruned_from_the_factor_vae_vote():
    def with_dead_code(images):
        return np.concatenate([images, np.zeros((len(images), 1))], axis=1)

    result = metrics.factor_vae_score(DATA, with_dead_code, num_train=100, num_eval=100,
                                      num_variance_estimate=1000)
    assert result["num_active_dims"] == 3 and result["eval_accuracy"] == 1.0


def test_a_representation_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="representation"):
        metrics.mig(DATA, lambda images: images[:, 0], num_train=100)
    with pytest.raises(ValueError, match="num_train"):
        metrics.mig(DATA, identity, num_train=0)
    with pytest.raises(ValueError, match=r"`trees` must be an int >= 1. Received: trees=0"):
        metrics.dci(DATA, identity, num_train=100, trees=0)

    class OneValue(FactorsAsImages):
        factor_sizes = (4, 1)

    with pytest.raises(ValueError, match=r"vary every factor.*factor\(s\) \[1\]"):
        metrics.mig(OneValue(), identity, num_train=100)
