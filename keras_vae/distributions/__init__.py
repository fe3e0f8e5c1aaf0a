"""Distributions of a VAE: the likelihood p(x|z) (priors and posteriors will join it)."""

from keras_vae.distributions.likelihoods import Bernoulli, Gaussian, Likelihood, get_likelihood

__all__ = ["Likelihood", "Bernoulli", "Gaussian", "get_likelihood"]
