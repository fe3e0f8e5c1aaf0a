"""The three distributions of a VAE, each a swappable layer that builds a TFP distribution:
the likelihood p(x|z), the prior p(z) and the posterior q(z|x)."""

from keras_vae.distributions.likelihoods import (
    Bernoulli,
    CallableLikelihood,
    ContinuousBernoulli,
    DiscretizedLogistic,
    DiscretizedLogisticMixture,
    Gaussian,
    Likelihood,
    available_likelihoods,
    get_likelihood,
)
from keras_vae.distributions.logistic_mixture import QuantizedLogisticMixture
from keras_vae.distributions.posteriors import (
    CallablePosterior,
    DiagonalGaussian,
    FullCovarianceGaussian,
    InverseAutoregressiveFlow,
    Posterior,
    available_posteriors,
    get_posterior,
)
from keras_vae.distributions.priors import (
    CallablePrior,
    GaussianMixture,
    Prior,
    StandardNormal,
    VampPrior,
    available_priors,
    get_prior,
)

__all__ = [
    "Likelihood", "Bernoulli", "ContinuousBernoulli", "Gaussian", "DiscretizedLogistic",
    "DiscretizedLogisticMixture", "QuantizedLogisticMixture", "CallableLikelihood", "get_likelihood", "available_likelihoods",
    "Prior", "StandardNormal", "GaussianMixture", "VampPrior", "CallablePrior", "get_prior",
    "available_priors",
    "Posterior", "DiagonalGaussian", "FullCovarianceGaussian", "InverseAutoregressiveFlow",
    "CallablePosterior", "get_posterior", "available_posteriors",
]
