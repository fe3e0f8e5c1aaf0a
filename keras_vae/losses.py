"""Training objectives as serializable objects: what is minimized, and the metrics it names.

An objective is called with the model and a batch and returns per-example tensors: `loss`
(what the optimizer minimizes) and the terms it reports. `elbo` is always the true (beta = 1)
bound, `elbo == -(reconstruction_loss + kl_loss)`. The formulas live in
`keras_vae.objectives`; an objective only chooses and weighs them.
"""

import keras
from keras import ops

from keras_vae.arguments import check_number
from keras_vae import objectives
from keras_vae.registry import resolve

GRADIENT_ESTIMATORS = ("reparameterization", "score_function")


class Objective:
    """Base class: `__call__(model, x, training, seed, step)` returns a dict of `(batch,)`
    tensors with the keys `metric_names`, `loss` among them."""

    kind = "objective"
    metric_names = ("loss", "reconstruction_loss", "kl_loss", "elbo")

    def check(self, model):
        """Raises `ValueError` if this objective cannot train `model` (called at construction)."""

    def describe(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return self.describe()


class FreeBits:
    """Free bits that may fall to zero over training, for the objectives that take them.

    `free_bits` > 0 floors each latent dimension's batch-mean KL at `free_bits` nats (Kingma
    et al. 2016); with `free_bits_decay_steps` > 0 the floor falls linearly to 0 over those
    optimizer steps, free_bits * max(0, 1 - t / free_bits_decay_steps), so that training ends
    on the objective itself (evaluation without a step uses the end of that schedule).
    """

    def _set_free_bits(self, free_bits, free_bits_decay_steps):
        self.free_bits = float(check_number("free_bits", free_bits, 0))
        self.free_bits_decay_steps = check_number("free_bits_decay_steps",
                                                  free_bits_decay_steps, 0, integer=True)
        if self.free_bits_decay_steps and not self.free_bits:
            raise ValueError(
                "Argument `free_bits_decay_steps` applies only with free bits (a floor to "
                f"lower). Received: free_bits_decay_steps={self.free_bits_decay_steps} with "
                "free_bits=0")

    def check(self, model):
        if self.free_bits and not model.kl_factorizes:
            raise ValueError(
                "Argument `free_bits` needs a KL that splits per latent dimension in closed "
                "form (the diagonal posterior with the standard normal prior). Received: "
                f"free_bits={self.free_bits} with {model.describe()}")

    @property
    def floor_metric_names(self):
        return ("free_bits_floor",) if self.free_bits_decay_steps else ()

    def free_bits_floor(self, step):
        """The floor at optimizer step `step` (None: the end of the schedule)."""
        if not self.free_bits_decay_steps:
            return self.free_bits
        done = objectives.linear_warmup(
            step if step is not None else self.free_bits_decay_steps, self.free_bits_decay_steps)
        return self.free_bits * (1.0 - done)

    def floor_terms(self, floor, loss):
        """`free_bits_floor` per example, where the floor falls."""
        if not self.free_bits_decay_steps:
            return {}
        return {"free_bits_floor": ops.broadcast_to(ops.cast(floor, loss.dtype),
                                                    ops.shape(loss))}


@keras.saving.register_keras_serializable(package="keras_vae")
class ELBO(FreeBits, Objective):
    """The evidence lower bound, with the usual knobs against posterior collapse.

    #### Mathematical details

    loss = -E_q[log p(x|z)] + w(t) * beta * KL, with E_q[.] averaged over `mc_samples` draws
    z ~ q(z|x), KL analytic where TFP has a closed form (else Monte Carlo on the same draws),
    w(t) = min(1, t / kl_warmup_steps) a linear warm-up over optimizer steps t, and with
    `free_bits` > 0 each latent dimension's batch-mean KL counted as at least `free_bits` nats
    (`objectives.free_bits_kl`); with `free_bits_decay_steps` > 0 that floor falls linearly to
    0 over those steps, free_bits * max(0, 1 - t / free_bits_decay_steps), so that training
    ends on the ELBO itself. beta = 1, no warm-up, no free bits is the plain ELBO
    (Kingma & Welling 2014); beta != 1 is the beta-VAE (Higgins et al. 2017).

    With `gradient="score_function"` the loss has the same value but its gradient with respect
    to the encoder is the score-function (REINFORCE) estimator, f(z) grad log q(z|x) at samples
    held fixed, instead of the reparameterization (pathwise) gradient: unbiased too, and far
    noisier (`experiments/gradient_variance.py`).

    Args:
        beta: float >= 0. Weight of the KL term. Defaults to 1.
        free_bits: float >= 0. Floor of each dimension's KL, nats. Defaults to 0 (none).
        kl_warmup_steps: int >= 0. Optimizer steps of the linear KL warm-up. Defaults to 0.
        free_bits_decay_steps: int >= 0. Optimizer steps over which the free-bits floor falls
            linearly to 0 (evaluation without a step uses the end of that schedule: no floor).
            Defaults to 0: the floor stays.
        mc_samples: int >= 1. Samples of z per example. Defaults to 1.
        gradient: str. `"reparameterization"` or `"score_function"`. Defaults to
            `"reparameterization"`.

    References:
        Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
        Higgins, I. et al. beta-VAE. ICLR 2017.
        Bowman, S. R. et al. Generating sentences from a continuous space. CoNLL 2016.
        Kingma, D. P. et al. Improved variational inference with inverse autoregressive flow.
        NeurIPS 2016 (free bits).
    """

    kind = "elbo"

    def __init__(self, beta=1.0, free_bits=0.0, kl_warmup_steps=0, mc_samples=1,
                 gradient="reparameterization", free_bits_decay_steps=0):
        self.beta = float(check_number("beta", beta, 0))
        self._set_free_bits(free_bits, free_bits_decay_steps)
        self.kl_warmup_steps = check_number("kl_warmup_steps", kl_warmup_steps, 0, integer=True)
        self.mc_samples = check_number("mc_samples", mc_samples, 1, integer=True)
        if gradient not in GRADIENT_ESTIMATORS:
            raise ValueError(f"Argument `gradient` must be one of {GRADIENT_ESTIMATORS}. "
                             f"Received: gradient={gradient!r}")
        self.gradient = gradient
        self.metric_names = (*Objective.metric_names,
                             *(("kl_weight",) if self.kl_warmup_steps else ()),
                             *self.floor_metric_names)

    def __call__(self, model, x, training=False, seed=None, step=None):
        score_function = self.gradient == "score_function"
        s = model.sampled_terms(x, self.mc_samples, seed=seed, training=training,
                                fixed_samples=score_function)
        reconstruction = -ops.mean(s["log_px_z"], axis=0)
        kl_terms = model.kl_terms(s)
        kl = kl_terms["kl_loss"]
        kl_in_loss = kl
        floor = self.free_bits_floor(step)
        if self.free_bits:
            kl_in_loss = objectives.free_bits_kl(model.kl_per_dimension_terms(s), floor)
        weight = self.beta * objectives.linear_warmup(
            step if step is not None else self.kl_warmup_steps, self.kl_warmup_steps)
        loss = reconstruction + weight * kl_in_loss
        if score_function:
            f = -s["log_px_z"]
            if not model.kl_analytic:
                f = f + weight * (s["log_q"] - s["p"].log_prob(s["z"]))
            loss = loss + ops.mean(objectives.score_function_surrogate(f, s["log_q"]), axis=0)
        terms = {
            **kl_terms,
            "loss": loss,
            "reconstruction_loss": reconstruction,
            "elbo": -(reconstruction + kl),
        }
        if self.kl_warmup_steps:
            terms["kl_weight"] = ops.broadcast_to(ops.cast(weight, loss.dtype), ops.shape(loss))
        return {**terms, **self.floor_terms(floor, loss)}

    def get_config(self):
        return {"beta": self.beta, "free_bits": self.free_bits,
                "kl_warmup_steps": self.kl_warmup_steps, "mc_samples": self.mc_samples,
                "gradient": self.gradient, "free_bits_decay_steps": self.free_bits_decay_steps}


@keras.saving.register_keras_serializable(package="keras_vae")
class IWAE(FreeBits, Objective):
    """The importance-weighted bound with `k` samples (Burda et al. 2015), with free bits.

    #### Mathematical details

    loss = -L_k, L_k = log (1/k sum_i w_i), w_i = p(x|z_i) p(z_i) / q(z_i|x), z_i ~ q(z|x)
    (`objectives.importance_weighted_bound`). L_1 is the ELBO in expectation and L_k grows with
    k. Reported besides: `iwae_bound` (L_k), and on the same k samples `reconstruction_loss`
    (-E_q log p(x|z)), `kl_loss` and `elbo`.

    The KL is no term of L_k, so free bits cannot floor it as the ELBO does; with `free_bits`
    > 0 the loss gains sum_j max(0, floor - KL_j) over the dimensions whose batch-mean analytic
    KL (averaged over the k samples) is below the floor (`objectives.free_bits_shortfall`),
    which with k = 1 is the ELBO's free bits in expectation; with `free_bits_decay_steps` the
    floor falls to 0 and training ends on L_k itself.

    With `elbo_steps` > 0 the first `elbo_steps` optimizer steps minimize the ELBO averaged
    over the same k samples, -1/k sum_i log p(x|z_i) + KL (with the floor, if any), and only
    then -L_k: a hierarchy learns to use its upper layers on the ELBO, whose encoder gradient
    does not weaken with k (Rainforth et al. 2018), before the bound tightens.

    Args:
        k: int >= 1. Importance samples per example. Defaults to 5.
        free_bits: float >= 0. Floor of each dimension's KL, nats. Defaults to 0 (none).
        free_bits_decay_steps: int >= 0. Optimizer steps over which the floor falls linearly
            to 0. Defaults to 0: the floor stays.
        elbo_steps: int >= 0. Optimizer steps trained on the ELBO before the bound
            (evaluation without a step uses the bound). Defaults to 0.

    References:
        Burda, Y., Grosse, R. and Salakhutdinov, R. Importance Weighted Autoencoders. ICLR 2016.
        Rainforth, T. et al. Tighter variational bounds are not necessarily better. ICML 2018.
    """

    kind = "iwae"

    def __init__(self, k=5, free_bits=0.0, free_bits_decay_steps=0, elbo_steps=0):
        self.k = check_number("k", k, 1, integer=True)
        self._set_free_bits(free_bits, free_bits_decay_steps)
        self.elbo_steps = check_number("elbo_steps", elbo_steps, 0, integer=True)
        self.metric_names = (*Objective.metric_names, "iwae_bound", *self.floor_metric_names)

    def __call__(self, model, x, training=False, seed=None, step=None):
        log_w, s = model.log_importance_weights(x, self.k, seed=seed, training=training)
        bound = objectives.importance_weighted_bound(log_w)
        reconstruction = -ops.mean(s["log_px_z"], axis=0)
        kl_terms = model.kl_terms(s)
        kl = kl_terms["kl_loss"]
        loss = -bound
        if self.elbo_steps and step is not None:
            on_elbo = ops.cast(step, "float32") < float(self.elbo_steps)
            loss = ops.where(on_elbo, reconstruction + kl, loss)
        floor = self.free_bits_floor(step)
        if self.free_bits:
            loss = loss + objectives.free_bits_shortfall(model.kl_per_dimension_terms(s), floor)
        return {
            **kl_terms,
            "loss": loss,
            "reconstruction_loss": reconstruction,
            "elbo": -(reconstruction + kl),
            "iwae_bound": bound,
            **self.floor_terms(floor, loss),
        }

    def get_config(self):
        return {"k": self.k, "free_bits": self.free_bits,
                "free_bits_decay_steps": self.free_bits_decay_steps,
                "elbo_steps": self.elbo_steps}


class DisentanglingObjective(Objective):
    """Base of the objectives that add a term to the ELBO to disentangle z (one sample of z
    per image): `disentangling_terms(model, s, reconstruction, kl, step)` returns the loss and
    the terms it reports."""

    needs_diagonal_posterior = True

    def check(self, model):
        posterior = getattr(model, "posterior", None)
        if self.needs_diagonal_posterior and getattr(posterior, "kind", None) != "diagonal":
            raise ValueError(
                f"Argument `objective` {self.kind!r} needs a one-layer model with the diagonal "
                "Gaussian posterior q(z|x) (its means and variances enter the objective). "
                f"Received: {model.describe()}")

    def __call__(self, model, x, training=False, seed=None, step=None):
        s = model.sampled_terms(x, 1, seed=seed, training=training)
        reconstruction = -ops.mean(s["log_px_z"], axis=0)
        kl_terms = model.kl_terms(s)
        kl = kl_terms["kl_loss"]
        loss, own = self.disentangling_terms(model, s, reconstruction, kl, step)
        return {**kl_terms, "loss": loss, "reconstruction_loss": reconstruction,
                "elbo": -(reconstruction + kl), **own}

    def disentangling_terms(self, model, s, reconstruction, kl, step):
        raise NotImplementedError


@keras.saving.register_keras_serializable(package="keras_vae")
class BetaTCVAE(DisentanglingObjective):
    """The beta-TCVAE objective (Chen et al. 2018): the ELBO with its total correlation
    weighted by beta.

    #### Mathematical details

    The KL averaged over the data splits into the index-code mutual information, the total
    correlation TC = KL(q(z) || prod_d q(z_d)) of the aggregate posterior and the dimensions'
    KLs; beta-TCVAE weighs the TC alone:
    loss = -log p(x|z) + KL(q(z|x) || p(z)) + (beta - 1) TC, with z ~ q(z|x) one sample per
    image and TC per image by minibatch-weighted sampling over the batch
    (`objectives.total_correlation`). `dataset_size` N adds the estimate's constant
    (D - 1) log(N M) (M the batch); 0 (the default) leaves it out as disentanglement_lib does,
    which changes the reported `total_correlation`, not the gradient. Reported besides the
    ELBO's terms: `total_correlation`.

    Args:
        beta: float >= 0. Weight of the total correlation. Defaults to 6 (Chen et al.'s
            dSprites setting).
        dataset_size: int >= 0. Training images N (0: the constant left out). Defaults to 0.

    References:
        Chen, R. T. Q. et al. Isolating sources of disentanglement in variational
        autoencoders. NeurIPS 2018.
    """

    kind = "betatcvae"
    metric_names = (*Objective.metric_names, "total_correlation")

    def __init__(self, beta=6.0, dataset_size=0):
        self.beta = float(check_number("beta", beta, 0))
        self.dataset_size = check_number("dataset_size", dataset_size, 0, integer=True)

    def disentangling_terms(self, model, s, reconstruction, kl, step):
        mean, log_var = s["params"][:2]
        tc = objectives.total_correlation(s["z"][0], mean, log_var, self.dataset_size)
        return reconstruction + kl + (self.beta - 1.0) * tc, {"total_correlation": tc}

    def get_config(self):
        return {"beta": self.beta, "dataset_size": self.dataset_size}


DIP_VARIANTS = ("i", "ii")


@keras.saving.register_keras_serializable(package="keras_vae")
class DIPVAE(DisentanglingObjective):
    """The DIP-VAE objectives (Kumar et al. 2018): the ELBO plus a penalty that pushes the
    covariance of the inferred codes toward the identity.

    #### Mathematical details

    loss = -log p(x|z) + KL(q(z|x) || p(z)) + lambda_od sum_{i != j} C_ij^2
    + lambda_d sum_i (C_ii - 1)^2 (`objectives.dip_regularizer`), C over the batch:
    Cov[mu(x)] for DIP-VAE-I, Cov[mu(x)] + E[diag sigma^2(x)] (the covariance of z) for
    DIP-VAE-II. The penalty is one value per batch, added to each image's loss so that the
    batch mean is the objective. Reported besides the ELBO's terms: `dip_regularizer`.

    Args:
        variant: str. `"i"` or `"ii"`. Defaults to `"i"`.
        lambda_od: float >= 0. Weight of the off-diagonal terms. Defaults to 10.
        lambda_d: float >= 0 or None. Weight of the diagonal terms; None: 10 lambda_od for
            DIP-VAE-I and lambda_od for DIP-VAE-II (disentanglement_lib's
            `lambda_d_factor`). Defaults to None.

    References:
        Kumar, A., Sattigeri, P. and Balakrishnan, A. Variational inference of disentangled
        latent concepts from unlabeled observations. ICLR 2018.
    """

    kind = "dipvae"
    metric_names = (*Objective.metric_names, "dip_regularizer")

    def __init__(self, variant="i", lambda_od=10.0, lambda_d=None):
        if variant not in DIP_VARIANTS:
            raise ValueError(f"Argument `variant` must be one of {DIP_VARIANTS}. "
                             f"Received: variant={variant!r}")
        self.variant = variant
        self.lambda_od = float(check_number("lambda_od", lambda_od, 0))
        if lambda_d is None:
            lambda_d = self.lambda_od * (10.0 if variant == "i" else 1.0)
        self.lambda_d = float(check_number("lambda_d", lambda_d, 0))

    def disentangling_terms(self, model, s, reconstruction, kl, step):
        mean, log_var = s["params"][:2]
        penalty = objectives.dip_regularizer(mean, log_var, self.lambda_od, self.lambda_d,
                                             self.variant)
        penalty = ops.broadcast_to(penalty, ops.shape(kl))
        return reconstruction + kl + penalty, {"dip_regularizer": penalty}

    def get_config(self):
        return {"variant": self.variant, "lambda_od": self.lambda_od,
                "lambda_d": self.lambda_d}


@keras.saving.register_keras_serializable(package="keras_vae")
class AnnealedVAE(DisentanglingObjective):
    """The AnnealedVAE objective (Burgess et al. 2018): the KL held near a capacity C that
    rises during training.

    #### Mathematical details

    loss = -log p(x|z) + gamma |KL_batch - C(t)|, KL_batch the batch mean of
    KL(q(z|x) || p(z)) and C(t) = c_max min(1, t / capacity_steps) at optimizer step t
    (`objectives.capacity`; evaluation without a step uses c_max). As in disentanglement_lib
    the penalty is taken of the batch-mean KL, one value per batch added to each image's loss.
    Reported besides the ELBO's terms: `capacity`.

    Args:
        capacity: float >= 0. c_max, nats. Defaults to 25 (Burgess et al.'s dSprites value).
        gamma: float >= 0. Weight of the penalty. Defaults to 1000.
        capacity_steps: int >= 0. Optimizer steps over which C rises to c_max (0: c_max from
            the start). Defaults to 100000 (disentanglement_lib's iteration_threshold).

    References:
        Burgess, C. P. et al. Understanding disentangling in beta-VAE. arXiv:1804.03599, 2018.
    """

    kind = "annealed"
    needs_diagonal_posterior = False
    metric_names = (*Objective.metric_names, "capacity")

    def __init__(self, capacity=25.0, gamma=1000.0, capacity_steps=100000):
        self.capacity = float(check_number("capacity", capacity, 0))
        self.gamma = float(check_number("gamma", gamma, 0))
        self.capacity_steps = check_number("capacity_steps", capacity_steps, 0, integer=True)

    def disentangling_terms(self, model, s, reconstruction, kl, step):
        target = ops.cast(objectives.capacity(step, self.capacity, self.capacity_steps),
                          kl.dtype)
        penalty = self.gamma * ops.abs(ops.mean(kl) - target)
        return (reconstruction + penalty,
                {"capacity": ops.broadcast_to(target, ops.shape(kl))})

    def get_config(self):
        return {"capacity": self.capacity, "gamma": self.gamma,
                "capacity_steps": self.capacity_steps}


_BY_NAME = {"elbo": ELBO, "iwae": IWAE, "betatcvae": BetaTCVAE, "dipvae": DIPVAE,
            "annealed": AnnealedVAE}


def available_objectives() -> list:
    return sorted(_BY_NAME)


def get_objective(identifier) -> Objective:
    """Returns an `Objective` from a name (`available_objectives()`), a serialized config or
    an instance."""
    return resolve(identifier, "objective", _BY_NAME, Objective, "keras_vae.losses.Objective")