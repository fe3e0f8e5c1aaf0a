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


_BY_NAME = {"elbo": ELBO, "iwae": IWAE}


def available_objectives() -> list:
    return sorted(_BY_NAME)


def get_objective(identifier) -> Objective:
    """Returns an `Objective` from a name (`"elbo"`, `"iwae"`), a serialized config or an
    instance."""
    return resolve(identifier, "objective", _BY_NAME, Objective, "keras_vae.losses.Objective")