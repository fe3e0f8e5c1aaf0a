"""Disentanglement metrics on data with known factors, as disentanglement_lib defines them.

Each metric takes `data`, a ground-truth dataset (`factor_sizes`, `sample_factors(n, rng)`
giving int factor indices `(n, num_factors)`, `images(factors)`; `keras_vae.data.Sprites` is
one), and `representation`, a function from a batch of images to codes `(batch, num_codes)`
(for a VAE the posterior mean, `model.latent_code`, as in disentanglement_lib). Images are
drawn, rendered and encoded in chunks of `chunk`, so that memory does not grow with the
number of points. The defaults are disentanglement_lib's (Locatello et al. 2019,
`disentanglement_lib/evaluation/metrics/*.py` with its `.gin` configs); each docstring states
them, since figures differ a hundredfold between implementations whose estimators and
settings are not said.

References:
    Higgins, I. et al. beta-VAE. ICLR 2017 (the BetaVAE score).
    Kim, H. and Mnih, A. Disentangling by factorising. ICML 2018 (the FactorVAE score).
    Chen, R. T. Q. et al. Isolating sources of disentanglement in VAEs. NeurIPS 2018 (MIG).
    Kumar, A. et al. Variational inference of disentangled latent concepts from unlabeled
    observations. ICLR 2018 (SAP).
    Eastwood, C. and Williams, C. K. I. A framework for the quantitative evaluation of
    disentangled representations. ICLR 2018 (DCI).
    Locatello, F. et al. Challenging common assumptions in the unsupervised learning of
    disentangled representations. ICML 2019 (disentanglement_lib).
"""

import numpy as np
from scipy import stats
from sklearn import ensemble, linear_model, metrics, svm

from keras_vae.arguments import check_int

CHUNK = 4096


def representations(data, representation, factors, chunk=CHUNK) -> np.ndarray:
    """The codes `(n, num_codes)` float64 of the images of `factors` `(n, num_factors)`."""
    parts = []
    for start in range(0, len(factors), chunk):
        codes = np.asarray(representation(data.images(factors[start:start + chunk])),
                           np.float64)
        if codes.ndim != 2 or len(codes) != len(factors[start:start + chunk]):
            raise ValueError(
                "Argument `representation` must return one code vector per image, "
                f"(batch, num_codes). Received: shape {codes.shape} for "
                f"{len(factors[start:start + chunk])} images")
        parts.append(codes)
    return np.concatenate(parts)


def factors_and_codes(data, representation, num_points, rng, chunk=CHUNK):
    """`(factors, codes)` of `num_points` images with uniformly drawn factors."""
    factors = data.sample_factors(num_points, rng)
    return factors, representations(data, representation, factors, chunk)


def train_and_test(data, representation, num_train, num_test, rng, chunk=CHUNK):
    """`(factors, codes, test factors, test codes)` of `num_train` and `num_test` images."""
    train = factors_and_codes(data, representation, check_int("num_train", num_train, 2), rng,
                              chunk)
    test = factors_and_codes(data, representation, check_int("num_test", num_test, 1), rng,
                             chunk)
    return (*train, *test)


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def beta_vae_score(data, representation, seed=0, batch_size=64, num_train=10000,
                   num_eval=5000, chunk=CHUNK) -> dict:
    """The BetaVAE score (Higgins et al. 2017): how well a linear classifier tells which
    factor two batches of images share from the codes' mean absolute differences.

    Each point: a factor k drawn uniformly; `batch_size` pairs of images whose factors are
    drawn independently except factor k, which each pair shares; the point's feature is
    mean_pairs |code(a) - code(b)| `(num_codes,)` and its label k. A logistic regression
    (scikit-learn's `LogisticRegression`, its defaults) is fitted on `num_train` points; the
    score is its accuracy on `num_eval` others. disentanglement_lib's defaults: batch_size 64,
    num_train 10000, num_eval 5000.

    Returns:
        dict: `train_accuracy`, `eval_accuracy` (the score).
    """
    rng = _rng(seed)
    check_int("batch_size", batch_size, 1)

    def points(n):
        chosen = rng.integers(0, len(data.factor_sizes), n)
        first = data.sample_factors(n * batch_size, rng)
        second = data.sample_factors(n * batch_size, rng)
        shared = np.repeat(chosen, batch_size)
        second[np.arange(len(second)), shared] = first[np.arange(len(first)), shared]
        difference = np.abs(representations(data, representation, first, chunk)
                            - representations(data, representation, second, chunk))
        return difference.reshape(n, batch_size, -1).mean(axis=1), chosen

    x_train, y_train = points(check_int("num_train", num_train, 1))
    x_eval, y_eval = points(check_int("num_eval", num_eval, 1))
    classifier = linear_model.LogisticRegression(random_state=int(rng.integers(2**31)))
    classifier.fit(x_train, y_train)
    return {"train_accuracy": float(classifier.score(x_train, y_train)),
            "eval_accuracy": float(classifier.score(x_eval, y_eval))}


def factor_vae_score(data, representation, seed=0, batch_size=64, num_train=10000,
                     num_eval=5000, num_variance_estimate=10000, prune_threshold=0.05,
                     chunk=CHUNK) -> dict:
    """The FactorVAE score (Kim & Mnih 2018): a majority-vote classifier from the code of
    least normalized variance to the factor held fixed.

    The codes' variances over `num_variance_estimate` images (ddof 1) normalize each code;
    codes of variance below `prune_threshold` are pruned (collapsed dimensions would otherwise
    win every vote). Each point: a factor k drawn uniformly, `batch_size` images sharing the
    value of factor k (the first image's), the vote (argmin_j var_batch(code_j) /
    var_all(code_j) over the kept codes, k). The classifier maps each code to the factor it
    got most votes for, on `num_train` points; the score is its accuracy on `num_eval` others.
    disentanglement_lib's defaults: batch_size 64, num_train 10000, num_eval 5000,
    num_variance_estimate 10000, prune threshold 0.05. With no code kept the score is 0.

    Returns:
        dict: `train_accuracy`, `eval_accuracy` (the score), `num_active_dims`.
    """
    rng = _rng(seed)
    _, codes = factors_and_codes(data, representation,
                                 check_int("num_variance_estimate", num_variance_estimate, 2),
                                 rng, chunk)
    variances = np.var(codes, axis=0, ddof=1)
    active = variances >= prune_threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    check_int("batch_size", batch_size, 2)

    def votes(n):
        chosen = rng.integers(0, len(data.factor_sizes), n)
        factors = data.sample_factors(n * batch_size, rng).reshape(n, batch_size, -1)
        factors[np.arange(n), :, chosen] = factors[np.arange(n), 0, chosen][:, None]
        batch_codes = representations(data, representation, factors.reshape(n * batch_size, -1),
                                      chunk).reshape(n, batch_size, -1)
        local = np.var(batch_codes, axis=1, ddof=1)[:, active] / variances[active]
        counts = np.zeros((len(data.factor_sizes), int(active.sum())), np.int64)
        np.add.at(counts, (chosen, np.argmin(local, axis=1)), 1)
        return counts

    train_votes = votes(check_int("num_train", num_train, 1))
    eval_votes = votes(check_int("num_eval", num_eval, 1))
    classifier = np.argmax(train_votes, axis=0)  # each kept code's factor
    codes_index = np.arange(train_votes.shape[1])
    return {
        "train_accuracy": float(train_votes[classifier, codes_index].sum() / train_votes.sum()),
        "eval_accuracy": float(eval_votes[classifier, codes_index].sum() / eval_votes.sum()),
        "num_active_dims": int(active.sum()),
    }


def histogram_discretize(codes, num_bins=20) -> np.ndarray:
    """Each code column cut into `num_bins` bins of equal width between its minimum and
    maximum (`np.histogram`'s edges, as disentanglement_lib's `histogram_discretize`)."""
    return np.stack([np.digitize(column, np.histogram(column, num_bins)[1][:-1])
                     for column in np.asarray(codes).T], axis=1)


def mutual_information(discrete_codes, factors) -> np.ndarray:
    """I(code_i; factor_j) `(num_codes, num_factors)`, nats, of the empirical joint
    distribution (scikit-learn's `mutual_info_score`)."""
    return np.array([[metrics.mutual_info_score(factor, code) for factor in factors.T]
                     for code in discrete_codes.T])


def mig(data, representation, seed=0, num_train=10000, num_bins=20, chunk=CHUNK) -> dict:
    """The mutual information gap (Chen et al. 2018), estimated as disentanglement_lib does.

    MIG = 1/K sum_k (I(z_(1); v_k) - I(z_(2); v_k)) / H(v_k), z_(1), z_(2) the codes of largest
    and second largest mutual information with factor v_k. The mutual information is that of
    the empirical distribution of `num_train` images' factors and codes, each code cut into
    `num_bins` bins of equal width (`histogram_discretize`): this plug-in estimate, not
    Chen et al.'s sampling estimator over q(z|x), is disentanglement_lib's (defaults:
    num_train 10000, 20 bins).

    Returns:
        dict: `mig`, `mig_per_factor` (list), `mutual_information` (`(codes, factors)` list).
    """
    factors, codes = factors_and_codes(data, representation,
                                       check_int("num_train", num_train, 2), _rng(seed), chunk)
    if codes.shape[1] < 2:
        raise ValueError("Argument `representation` must give at least 2 codes for the gap "
                         f"between the best two. Received: {codes.shape[1]} code(s)")
    information = mutual_information(histogram_discretize(codes, num_bins), factors)
    entropy = np.array([metrics.mutual_info_score(factor, factor) for factor in factors.T])
    if (entropy == 0).any():
        raise ValueError(
            "Argument `data` must vary every factor: MIG divides by each factor's entropy. "
            f"Received: factor(s) {np.flatnonzero(entropy == 0).tolist()} with one value among "
            f"{len(factors)} points")
    top = np.sort(information, axis=0)[::-1]
    gaps = (top[0] - top[1]) / entropy
    return {"mig": float(np.mean(gaps)), "mig_per_factor": gaps.tolist(),
            "mutual_information": information.tolist()}


def sap(data, representation, seed=0, num_train=10000, num_test=5000, chunk=CHUNK) -> dict:
    """The separated attribute predictability score (Kumar et al. 2018), for discrete factors
    as disentanglement_lib computes it.

    For each code i and factor j, a linear SVM on code i alone (scikit-learn's `LinearSVC`,
    C = 0.01, balanced class weights) predicts factor j; S_ij is its accuracy on `num_test`
    images after fitting on `num_train`. SAP = 1/K sum_j (S_(1)j - S_(2)j), the gap between
    the best two codes of each factor. disentanglement_lib's defaults: num_train 10000,
    num_test 5000, `continuous_factors=False`.

    Returns:
        dict: `sap`, `score_matrix` (`(codes, factors)` list).
    """
    factors, codes, test_factors, test_codes = train_and_test(
        data, representation, num_train, num_test, _rng(seed), chunk)
    scores = np.zeros((codes.shape[1], factors.shape[1]))
    for i in range(codes.shape[1]):
        for j in range(factors.shape[1]):
            classifier = svm.LinearSVC(C=0.01, class_weight="balanced")
            classifier.fit(codes[:, i:i + 1], factors[:, j])
            scores[i, j] = np.mean(classifier.predict(test_codes[:, i:i + 1])
                                   == test_factors[:, j])
    top = np.sort(scores, axis=0)
    return {"sap": float(np.mean(top[-1] - top[-2])), "score_matrix": scores.tolist()}


def dci_from_importance(importance) -> dict:
    """Disentanglement and completeness (Eastwood & Williams 2018) of an importance matrix
    R `(num_codes, num_factors)`, R_ij >= 0 the importance of code i for factor j.

    D = sum_i rho_i (1 - H_K(P_i.)), P_i. = R_i. / sum_j R_ij, H_K the entropy in base K =
    num_factors, rho_i = sum_j R_ij / sum R; C = sum_j rho_j (1 - H_L(P_.j)) in base L =
    num_codes, rho_j = sum_i R_ij / sum R. 1e-11 is added to R inside the entropies, as in
    disentanglement_lib.
    """
    importance = np.asarray(importance, np.float64)
    if importance.sum() == 0:
        importance = np.ones_like(importance)
    codes, factors = importance.shape
    per_code = 1.0 - stats.entropy(importance.T + 1e-11, base=factors)
    per_factor = 1.0 - stats.entropy(importance + 1e-11, base=codes)
    total = importance.sum()
    return {"disentanglement": float(np.sum(per_code * importance.sum(axis=1) / total)),
            "completeness": float(np.sum(per_factor * importance.sum(axis=0) / total))}


def dci(data, representation, seed=0, num_train=10000, num_test=5000, trees=100,
        chunk=CHUNK) -> dict:
    """DCI (Eastwood & Williams 2018) with gradient-boosted trees, as disentanglement_lib.

    One scikit-learn `GradientBoostingClassifier` (`trees` boosting stages of depth 3; 100,
    scikit-learn's default, is disentanglement_lib's) per factor predicts it from all codes,
    fitted on `num_train` images; the importance of code i for factor j is the absolute
    impurity-based importance of feature i in factor j's model.
    `disentanglement` and `completeness` come from that matrix (`dci_from_importance`);
    `informativeness_train` and `informativeness_test` are the classifiers' mean accuracies
    on the training images and on `num_test` others. disentanglement_lib's defaults:
    num_train 10000, num_test 5000.

    Returns:
        dict: `disentanglement`, `completeness`, `informativeness_train`,
        `informativeness_test`, `importance_matrix` (`(codes, factors)` list).
    """
    check_int("trees", trees, 1)
    rng = _rng(seed)
    factors, codes, test_factors, test_codes = train_and_test(
        data, representation, num_train, num_test, rng, chunk)
    importance = np.zeros((codes.shape[1], factors.shape[1]))
    train_accuracy, test_accuracy = [], []
    for j in range(factors.shape[1]):
        model = ensemble.GradientBoostingClassifier(n_estimators=trees,
                                                    random_state=int(rng.integers(2**31)))
        model.fit(codes, factors[:, j])
        importance[:, j] = np.abs(model.feature_importances_)
        train_accuracy.append(np.mean(model.predict(codes) == factors[:, j]))
        test_accuracy.append(np.mean(model.predict(test_codes) == test_factors[:, j]))
    return {**dci_from_importance(importance),
            "informativeness_train": float(np.mean(train_accuracy)),
            "informativeness_test": float(np.mean(test_accuracy)),
            "importance_matrix": importance.tolist()}


METRICS = {"beta_vae": beta_vae_score, "factor_vae": factor_vae_score, "mig": mig, "sap": sap,
           "dci": dci}


def disentanglement_metrics(data, representation, seed=0, points=None, settings=None,
                            chunk=CHUNK) -> dict:
    """The five metrics with disentanglement_lib's defaults, or with `points` (an int) in
    place of every `num_train` / `num_variance_estimate` and `points // 2` of every
    `num_eval` / `num_test`; `settings` (`{"mig": {"num_train": 10000}, ...}`, keys of
    `METRICS`) sets any metric's own arguments over those. What `keras-vae evaluate
    --disentanglement` writes.

    Returns:
        dict: `beta_vae_score`, `factor_vae_score`, `mig`, `sap`, `dci_disentanglement`,
        `dci_completeness`, `dci_informativeness` (test accuracy), and `details`: every
        metric's full output.
    """
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(METRICS))
    if unknown:
        raise ValueError(f"Argument `settings` must name metrics among {sorted(METRICS)}. "
                         f"Received: {unknown}")
    sized = {name: {} for name in METRICS}
    if points is not None:
        check_int("points", points, 2)
        half = max(1, points // 2)
        sized = {"beta_vae": {"num_train": points, "num_eval": half},
                 "factor_vae": {"num_train": points, "num_eval": half,
                                "num_variance_estimate": points},
                 "mig": {"num_train": points},
                 "sap": {"num_train": points, "num_test": half},
                 "dci": {"num_train": points, "num_test": half}}
    rng = _rng(seed)
    details = {name: metric(data, representation, rng, chunk=chunk,
                            **{**sized[name], **settings.get(name, {})})
               for name, metric in METRICS.items()}
    return {
        "beta_vae_score": details["beta_vae"]["eval_accuracy"],
        "factor_vae_score": details["factor_vae"]["eval_accuracy"],
        "mig": details["mig"]["mig"],
        "sap": details["sap"]["sap"],
        "dci_disentanglement": details["dci"]["disentanglement"],
        "dci_completeness": details["dci"]["completeness"],
        "dci_informativeness": details["dci"]["informativeness_test"],
        "details": details,
    }


__all__ = ["beta_vae_score", "dci", "dci_from_importance", "disentanglement_metrics",
           "factor_vae_score", "histogram_discretize", "mig", "mutual_information",
           "representations", "sap"]
