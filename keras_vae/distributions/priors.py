"""Priors p(z): layers that hold their own variables and build a TFP distribution from them.

A prior's distribution has event `(latent_dim,)`. A prior that is defined through the
posterior (the VampPrior) receives `posterior_of`, a function from inputs to q(z|x), when
the model asks for the distribution: layers talk through arguments.
"""

import math

import keras
import tensorflow as tf
import tensorflow_probability as tfp
from keras import ops

from keras_vae.arguments import check_int
from keras_vae.layers.sampling import seed_pair, standard_normal
from keras_vae.registry import resolve, unregistered_function

tfd = tfp.distributions


class Prior(keras.layers.Layer):
    """Base class of the priors p(z). `configure` is called by the model with the latent size
    and the data's shape and range; `distribution(posterior_of)` builds p(z)."""

    kind = "prior"

    def saving_problem(self):
        """None if the prior can be saved in a `.keras` file, else why not, in words."""
        return None

    def configure(self, latent_dim, data_shape, data_range=(0.0, 1.0)):
        self.latent_dim = int(latent_dim)
        self.built = True

    def distribution(self, posterior_of=None):
        """p(z) as a TFP distribution with event `(latent_dim,)`.

        Args:
            posterior_of: callable `inputs -> q(z|inputs)` (a `tfd.Distribution` batched over
                the inputs); only priors built from the posterior use it.
        """
        raise NotImplementedError

    def sample(self, n, seed=None, posterior_of=None):
        """`n` latent vectors `(n, latent_dim)` from the prior; an int `seed` is reproducible."""
        if seed is None:
            seed = keras.random.SeedGenerator()
        return self.distribution(posterior_of).sample(n, seed=seed_pair(seed))

    def get_config(self):
        return super().get_config()


@keras.saving.register_keras_serializable(package="keras_vae")
class StandardNormal(Prior):
    """p(z) = N(0, I), the VAE's prior (Kingma & Welling 2014). With the diagonal or the
    full-covariance Gaussian posterior, KL(q || p) is TFP's closed form."""

    kind = "normal"

    def distribution(self, posterior_of=None):
        d = self.latent_dim
        return tfd.MultivariateNormalDiag(loc=tf.zeros((d,)), scale_diag=tf.ones((d,)))

    def sample(self, n, seed=None, posterior_of=None):
        if isinstance(n, int):
            shape = (n, self.latent_dim)
        else:  # a scalar tensor, as in the exported `sample` signature
            shape = ops.stack([ops.cast(n, "int32"), self.latent_dim])
        return standard_normal(shape, seed=seed)


class _MixturePrior(Prior):
    """A prior of `components` mixture components (the argument both mixtures take)."""

    def __init__(self, components, **kwargs):
        super().__init__(**kwargs)
        self.components = check_int("components", components, 1)

    def get_config(self):
        return {**super().get_config(), "components": self.components}


@keras.saving.register_keras_serializable(package="keras_vae")
class GaussianMixture(_MixturePrior):
    """A learnable mixture of diagonal Gaussians, p(z) = sum_k pi_k N(z; mu_k, diag s_k^2).

    The means start at N(0, I) draws, the scales at 1 and the weights equal; all three are
    trained with the model. KL(q || p) has no closed form: the model estimates it by Monte
    Carlo, log q(z|x) - log p(z) at its own samples.

    Args:
        components: int. Number of mixture components K. Defaults to 10.
        **kwargs: standard `keras.layers.Layer` arguments.

    References:
        Dilokthanakul, N. et al. Deep unsupervised clustering with Gaussian mixture VAEs.
        arXiv:1611.02648, 2016.
    """

    kind = "mixture"

    def __init__(self, components=10, **kwargs):
        super().__init__(components, **kwargs)

    def configure(self, latent_dim, data_shape, data_range=(0.0, 1.0)):
        super().configure(latent_dim, data_shape, data_range)
        k, d = self.components, self.latent_dim
        self.means = self.add_weight(shape=(k, d), initializer=keras.initializers.RandomNormal(
            stddev=1.0), name="means")
        self.log_scales = self.add_weight(shape=(k, d), initializer="zeros", name="log_scales")
        self.logits = self.add_weight(shape=(k,), initializer="zeros", name="logits")

    def distribution(self, posterior_of=None):
        components = tfd.MultivariateNormalDiag(loc=self.means,
                                                scale_diag=ops.exp(self.log_scales))
        return tfd.MixtureSameFamily(tfd.Categorical(logits=self.logits), components)


# Where the VampPrior's pseudo-inputs start, as a fraction of a bounded data range: mean and
# standard deviation (Tomczak & Welling 2018, their code's N(0.05, 0.01)).
PSEUDO_INPUT_START = 0.05
PSEUDO_INPUT_SPREAD = 0.01


@keras.saving.register_keras_serializable(package="keras_vae")
class VampPrior(_MixturePrior):
    """The VampPrior: p(z) = 1/K sum_k q(z|u_k), the posterior's mixture at K learned
    pseudo-inputs u_k (Tomczak & Welling 2018).

    The pseudo-inputs are weights of this layer with the data's shape; for data in a bounded
    range [a, b] they pass through a + (b - a) * sigmoid(.) so they stay in it, and start near
    the lower end, at a + (b - a) * N(0.05, 0.01) as in the paper. KL(q || p) is estimated by
    Monte Carlo.

    Args:
        components: int. Number of pseudo-inputs K. Defaults to 50.
        **kwargs: standard `keras.layers.Layer` arguments.

    References:
        Tomczak, J. M. and Welling, M. VAE with a VampPrior. AISTATS 2018.
    """

    kind = "vamp"

    def __init__(self, components=50, **kwargs):
        super().__init__(components, **kwargs)

    def configure(self, latent_dim, data_shape, data_range=(0.0, 1.0)):
        super().configure(latent_dim, data_shape, data_range)
        low, high = float(data_range[0]), float(data_range[1])
        self.bounded = math.isfinite(low) and math.isfinite(high)
        self.low, self.high = low, high
        if self.bounded:
            # Tomczak & Welling's start, N(0.05, 0.01) in [0, 1]: near-black images. On MNIST
            # with the IWAE architecture, grey-noise pseudo-inputs (sigmoid of N(0, 0.5)) let the
            # model collapse onto the mean image in the first epochs; these do not.
            p = PSEUDO_INPUT_START
            initializer = keras.initializers.RandomNormal(
                mean=math.log(p / (1 - p)), stddev=PSEUDO_INPUT_SPREAD / (p * (1 - p)))
        else:
            initializer = keras.initializers.RandomNormal(stddev=1.0)
        self.pseudo_inputs = self.add_weight(
            shape=(self.components, *data_shape), initializer=initializer, name="pseudo_inputs")

    def inputs(self):
        """The K pseudo-inputs, in the data's range."""
        if self.bounded:
            return self.low + (self.high - self.low) * ops.sigmoid(self.pseudo_inputs)
        return ops.convert_to_tensor(self.pseudo_inputs)

    def distribution(self, posterior_of=None):
        if posterior_of is None:
            raise ValueError("The VampPrior is the posterior at its pseudo-inputs: argument "
                             "`posterior_of` must be a function from inputs to q(z|x). "
                             "Received: posterior_of=None")
        components = posterior_of(self.inputs())
        logits = tf.zeros((self.components,))
        return tfd.MixtureSameFamily(tfd.Categorical(logits=logits), components)


@keras.saving.register_keras_serializable(package="keras_vae")
class CallablePrior(Prior):
    """A user's prior: a function of no arguments returning a `tfd.Distribution` with event
    `(latent_dim,)`, registered with `keras.saving.register_keras_serializable` so that saved
    models find it again."""

    kind = "callable"

    def __init__(self, fn, **kwargs):
        super().__init__(**kwargs)
        if isinstance(fn, dict):
            fn = keras.saving.deserialize_keras_object(fn)
        if not callable(fn):
            raise TypeError(f"Argument `fn` must be callable. Received: fn={fn!r}")
        self.fn = fn

    def distribution(self, posterior_of=None):
        return self.fn()

    def saving_problem(self):
        return unregistered_function(self.fn)

    def get_config(self):
        return {**super().get_config(), "fn": keras.saving.serialize_keras_object(self.fn)}


class DistributionPrior(Prior):
    """A fixed `tfd.Distribution` with event `(latent_dim,)` as the prior (a
    `tfd.MixtureSameFamily`, ...). It trains, samples and exports; a `.keras` file cannot
    hold a distribution object, so `save` refuses the model, saying so: for a saved model,
    pass a registered function returning the distribution (`CallablePrior`) instead."""

    kind = "distribution"

    def __init__(self, distribution, **kwargs):
        super().__init__(**kwargs)
        self.fixed = distribution

    def distribution(self, posterior_of=None):
        return self.fixed

    def saving_problem(self):
        return (f"it is a fixed {type(self.fixed).__name__} object, which a .keras file cannot "
                "hold; pass a function returning it, registered with "
                "@keras.saving.register_keras_serializable(), instead")

    def get_config(self):  # what the export's metadata shows
        return {**super().get_config(), "distribution": repr(self.fixed)}

    @classmethod
    def from_config(cls, config):
        raise ValueError(f"A fixed distribution prior cannot be loaded from a config: "
                         f"{config.get('distribution')}")


_BY_NAME = {"normal": StandardNormal, "mixture": GaussianMixture, "vamp": VampPrior}


def available_priors() -> list:
    return sorted(_BY_NAME)


def get_prior(identifier) -> Prior:
    """Returns a `Prior` from a name (`available_priors()`), a serialized config, an instance,
    a function of no arguments returning a `tfd.Distribution`, or a `tfd.Distribution`."""
    if isinstance(identifier, tfd.Distribution):
        return DistributionPrior(identifier)
    return resolve(identifier, "prior", _BY_NAME, Prior, "keras_vae.distributions.Prior",
                   wrap_callable=CallablePrior)