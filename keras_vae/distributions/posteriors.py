"""Posteriors q(z|x): layers from encoder outputs to TensorFlow Probability distributions.

An encoder outputs one tensor per head the posterior names (`output_sizes(latent_dim)`); the
posterior turns them into its parameters (`params`), into a `tfd.Distribution` whose event is
one latent vector (`distribution`), and draws reparameterized samples with their log-density
in one pass (`sample`), which is what every objective and the importance-sampled estimate
use.
"""


import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_vae.arguments import check_int
from keras_vae.layers.sampling import diagonal_normal_sample, seed_pair, standard_normal
from keras_vae.objectives import (
    bounded_log_variance,
    kl_diagonal_gaussians,
    reparameterized_log_density,
)
from keras_vae.registry import resolve, unregistered_function

tfd = tfp.distributions
tfb = tfp.bijectors


class Posterior(keras.layers.Layer):
    """Base class of the posteriors q(z|x).

    A posterior is a layer (an inverse autoregressive flow has weights of its own) but is never
    called as one. `configure(latent_dim)` fixes the latent size once the model knows it.
    """

    kind = "posterior"
    param_names = ("z_mean",)

    def saving_problem(self):
        """None if the posterior can be saved in a `.keras` file, else why not, in words."""
        return None

    def configure(self, latent_dim):
        """Creates what depends on the latent size (weights of a flow). Called by the model."""
        self.latent_dim = int(latent_dim)
        self.built = True

    def output_sizes(self, latent_dim):
        """`{head name: size}` of the encoder outputs this posterior needs, in order."""
        raise NotImplementedError

    def params(self, outputs):
        """The distribution's parameters from the encoder's outputs (a list of tensors)."""
        return list(outputs)

    def distribution(self, params):
        """q(z|x) as a TFP distribution with event `(latent_dim,)`."""
        raise NotImplementedError

    def sample(self, params, num_samples, seed=None):
        """`(z, log q(z|x))` of shapes `(num_samples, batch, latent_dim)` and
        `(num_samples, batch)`, z reparameterized where the distribution allows it."""
        dist = self.distribution(params)
        z = dist.sample(num_samples, seed=seed_pair(seed if seed is not None else
                                                    keras.random.SeedGenerator()))
        return z, dist.log_prob(z)

    def mean(self, params):
        """A deterministic latent code for each example (the mean of q, or for a flow the
        transformed base mean): what reconstructions and latent plots show."""
        return self.distribution(params).mean()

    def kl_per_dimension(self, params, prior_dist):
        """KL(q || p) per latent dimension `(batch, latent_dim)` when it factorizes in closed
        form, else None."""
        return None

    def get_config(self):
        return super().get_config()


def _latent_params(outputs):
    return [ops.cast(o, "float32") for o in outputs]


@keras.saving.register_keras_serializable(package="keras_vae")
class DiagonalGaussian(Posterior):
    """q(z|x) = N(mu(x), diag sigma^2(x)), the VAE's posterior (Kingma & Welling 2014).

    #### Mathematical details

    The encoder outputs mu and a raw log-variance, which `bounded_log_variance` maps smoothly
    into (-30, 30). z = mu + sigma * eps with eps ~ N(0, I) (the reparameterization trick), and
    log q(z|x) = -1/2 sum_j (eps_j^2 + log sigma_j^2 + log 2 pi).
    """

    kind = "diagonal"
    param_names = ("z_mean", "z_log_var")

    def output_sizes(self, latent_dim):
        return {"z_mean": latent_dim, "z_log_var": latent_dim}

    def params(self, outputs):
        z_mean, raw_log_var = _latent_params(outputs)
        return [z_mean, bounded_log_variance(raw_log_var)]

    def distribution(self, params):
        z_mean, z_log_var = params
        return tfd.MultivariateNormalDiag(loc=z_mean, scale_diag=ops.exp(0.5 * z_log_var))

    def sample(self, params, num_samples, seed=None):
        return diagonal_normal_sample(*params, num_samples=num_samples, seed=seed)

    def mean(self, params):
        return params[0]

    def kl_per_dimension(self, params, prior_dist):
        if not isinstance(prior_dist, tfd.MultivariateNormalDiag):
            return None
        z_mean, z_log_var = params
        p_loc = prior_dist.loc
        p_var = ops.square(prior_dist.stddev())
        return kl_diagonal_gaussians(z_mean, z_log_var, p_loc, ops.log(p_var))


@keras.saving.register_keras_serializable(package="keras_vae")
class FullCovarianceGaussian(Posterior):
    """q(z|x) = N(mu(x), L(x) L(x)^T) with a lower-triangular scale L (a full covariance).

    #### Mathematical details

    The encoder outputs mu and d(d+1)/2 raw entries of L, filled row by row
    (`tfp.math.fill_triangular`); the diagonal of L is softplus(raw) + 1e-4 so that L is
    invertible. z = mu + L eps; log q(z|x) = -1/2 |eps|^2 - sum_j log L_jj - d/2 log 2 pi. The KL
    against a Gaussian prior is TFP's closed form for multivariate normals.
    """

    kind = "full"
    param_names = ("z_mean", "scale_tril")

    def output_sizes(self, latent_dim):
        return {"z_mean": latent_dim, "scale_tril": latent_dim * (latent_dim + 1) // 2}

    def params(self, outputs):
        z_mean, raw = _latent_params(outputs)
        tril = tfp.math.fill_triangular(raw)
        diag = tf.linalg.diag_part(tril)
        tril = tf.linalg.set_diag(tril, tf.nn.softplus(diag) + 1e-4)
        return [z_mean, tril]

    def distribution(self, params):
        z_mean, tril = params
        return tfd.MultivariateNormalTriL(loc=z_mean, scale_tril=tril)

    def sample(self, params, num_samples, seed=None):
        z_mean, tril = params
        eps = standard_normal((num_samples, *ops.shape(z_mean)), seed=seed, batch_axis=1)
        z = z_mean + tf.linalg.matvec(tril, eps)
        return z, reparameterized_log_density(eps, tf.math.log(tf.linalg.diag_part(tril)))

    def mean(self, params):
        return params[0]


@keras.saving.register_keras_serializable(package="keras_vae")
class MaskedDense(keras.layers.Layer):
    """A dense layer whose kernel is multiplied by a fixed 0/1 mask (MADE, Germain et al. 2015).

    Args:
        units: int. Output size.
        mask: nested list of 0/1, shape `(input_size, units)`.
        **kwargs: standard `keras.layers.Layer` arguments.
    """

    def __init__(self, units, mask, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.mask = np.asarray(mask, "float32")
        self.kernel = self.add_weight(shape=self.mask.shape, initializer="glorot_uniform",
                                      name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.built = True

    def call(self, x):
        return ops.matmul(x, self.kernel * self.mask) + self.bias

    def get_config(self):
        return {**super().get_config(), "units": self.units, "mask": self.mask.tolist()}


def made_masks(latent_dim, hidden_units):
    """Masks of a one-hidden-layer MADE: output j (shift and scale) sees inputs i < j only.

    Input i has degree i + 1, hidden unit h degree 1 + h mod (d - 1) (1 when d = 1), output j
    degree j + 1; a connection is allowed from degree a to b when a <= b (into hidden units) or
    a < b (into outputs).
    """
    inputs = np.arange(1, latent_dim + 1)
    hidden = 1 + np.arange(hidden_units) % max(latent_dim - 1, 1)
    outputs = np.arange(1, latent_dim + 1)
    into_hidden = (inputs[:, None] <= hidden[None, :]).astype("float32")
    into_outputs = (hidden[:, None] < outputs[None, :]).astype("float32")
    return into_hidden, np.concatenate([into_outputs, into_outputs], axis=1)


@keras.saving.register_keras_serializable(package="keras_vae")
class InverseAutoregressiveFlow(Posterior):
    """q(z|x): a diagonal Gaussian transformed by `flow_steps` inverse autoregressive flows.

    #### Mathematical details

    z_0 = mu + sigma * eps as in `DiagonalGaussian`; then for t = 1..T,
    z_t = s_t * z_{t-1} + (1 - s_t) * m_t with [m_t, s_t] = MADE_t(z_{t-1}, h),
    s_t = sigmoid(. + 1.5), and the order of z reversed between steps (Kingma et al. 2016, Sec. 4,
    the numerically stable form with a forget-gate bias). Each step is
    `tfb.Invert(tfb.MaskedAutoregressiveFlow(...))`: sampling and its log-density take one pass
    per step, log q(z_T|x) = log q(z_0|x) - sum_t sum_j log s_tj. The density of any other z
    (what a VampPrior built on this posterior needs) inverts the flow, latent_dim passes per
    step, unrolled so that it broadcasts. The context h (a third encoder
    head of `context_units`) conditions every step on x. The MADE networks are Keras 3 layers
    (`MaskedDense`), not `tfb.AutoregressiveNetwork` (Keras 2 only).

    Args:
        flow_steps: int. Number of flow steps T. Defaults to 2.
        hidden_units: int. Hidden width of each MADE. Defaults to 64.
        context_units: int. Size of the context h from the encoder. Defaults to 16.
        **kwargs: standard `keras.layers.Layer` arguments.

    References:
        Kingma, D. P., Salimans, T., Jozefowicz, R., Chen, X., Sutskever, I. and Welling, M.
        Improved Variational Inference with Inverse Autoregressive Flow. NeurIPS 2016.
        Germain, M., Gregor, K., Murray, I. and Larochelle, H. MADE. ICML 2015.
    """

    kind = "iaf"
    param_names = ("z_mean", "z_log_var", "context")

    def __init__(self, flow_steps=2, hidden_units=64, context_units=16, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("flow_steps", flow_steps), ("hidden_units", hidden_units),
                            ("context_units", context_units)):
            check_int(name, value, 1)
        self.flow_steps, self.hidden_units = flow_steps, hidden_units
        self.context_units = context_units

    def configure(self, latent_dim):
        super().configure(latent_dim)
        into_hidden, into_outputs = made_masks(latent_dim, self.hidden_units)
        self.steps = []
        for t in range(self.flow_steps):
            hidden = MaskedDense(self.hidden_units, into_hidden, name=f"made_{t}_hidden")
            context = keras.layers.Dense(self.hidden_units, use_bias=False,
                                         name=f"made_{t}_context")
            context.build((None, self.context_units))
            out = MaskedDense(2 * latent_dim, into_outputs, name=f"made_{t}_output")
            self.steps.append((hidden, context, out))

    def output_sizes(self, latent_dim):
        return {"z_mean": latent_dim, "z_log_var": latent_dim, "context": self.context_units}

    def params(self, outputs):
        z_mean, raw_log_var, context = _latent_params(outputs)
        return [z_mean, bounded_log_variance(raw_log_var), context]

    def _bijector(self, context):
        """The flow as one TFP bijector, conditioned on `context` `(batch, context_units)`."""
        bijectors = []
        for t, (hidden, project, out) in enumerate(self.steps):
            def gated_step(z, hidden=hidden, project=project, out=out):
                h = ops.elu(hidden(z) + project(context))
                m, s = ops.split(out(h), 2, axis=-1)
                log_gate = -ops.softplus(-(s + 1.5))  # log sigmoid(s + 1.5), never -inf
                gate = ops.exp(log_gate)
                # MAF's inverse is this bijector's inverse, so Invert(MAF) samples with
                # z -> gate * z + (1 - gate) * m, computed as written (stable for any s).
                return tfb.Invert(tfb.Chain([tfb.Shift((1.0 - gate) * m),
                                             tfb.Scale(log_scale=log_gate)]))

            bijectors.append(tfb.Invert(tfb.MaskedAutoregressiveFlow(
                bijector_fn=gated_step, unroll_loop=True, name=f"iaf_{t}")))
            if t < self.flow_steps - 1:
                bijectors.append(tfb.Permute(np.arange(self.latent_dim)[::-1].copy()))
        return tfb.Chain(bijectors[::-1])  # Chain applies its last bijector first

    def distribution(self, params):
        z_mean, z_log_var, context = params
        base = tfd.MultivariateNormalDiag(loc=z_mean, scale_diag=ops.exp(0.5 * z_log_var))
        return tfd.TransformedDistribution(base, self._bijector(context))

    def sample(self, params, num_samples, seed=None):
        z_mean, z_log_var, context = params
        z0, log_q0 = diagonal_normal_sample(z_mean, z_log_var, num_samples, seed)
        bijector = self._bijector(context)
        return bijector.forward(z0), log_q0 - bijector.forward_log_det_jacobian(z0, 1)

    def mean(self, params):
        return self._bijector(params[2]).forward(params[0])

    def get_config(self):
        return {**super().get_config(), "flow_steps": self.flow_steps,
                "hidden_units": self.hidden_units, "context_units": self.context_units}


@keras.saving.register_keras_serializable(package="keras_vae")
class CallablePosterior(Posterior):
    """A user's posterior: a function from the encoder's outputs to a `tfd.Distribution` with
    event `(latent_dim,)`; samples come from its `sample` (reparameterized when the
    distribution is) and their log-density from its `log_prob`.

    Args:
        fn: callable `list of tensors -> tfd.Distribution`, registered with
            `keras.saving.register_keras_serializable` so that saved models find it again.
        output_sizes: list of ints. The encoder heads `fn` expects.
    """

    kind = "callable"

    def __init__(self, fn, output_sizes, **kwargs):
        super().__init__(**kwargs)
        if isinstance(fn, dict):
            fn = keras.saving.deserialize_keras_object(fn)
        if not callable(fn):
            raise TypeError(f"Argument `fn` must be callable. Received: fn={fn!r}")
        self.fn, self.sizes = fn, [int(s) for s in output_sizes]
        self.param_names = tuple(f"param_{i}" for i in range(len(self.sizes)))

    def output_sizes(self, latent_dim):
        return dict(zip(self.param_names, self.sizes))

    def distribution(self, params):
        return self.fn(params)

    def saving_problem(self):
        return unregistered_function(self.fn)

    def get_config(self):
        return {**super().get_config(), "fn": keras.saving.serialize_keras_object(self.fn),
                "output_sizes": self.sizes}


_BY_NAME = {
    "diagonal": DiagonalGaussian,
    "full": FullCovarianceGaussian,
    "iaf": InverseAutoregressiveFlow,
}


def available_posteriors() -> list:
    return sorted(_BY_NAME)


def get_posterior(identifier) -> Posterior:
    """Returns a `Posterior` from a name (`available_posteriors()`), a serialized config or an
    instance."""
    return resolve(identifier, "posterior", _BY_NAME, Posterior,
                   "keras_vae.distributions.Posterior")