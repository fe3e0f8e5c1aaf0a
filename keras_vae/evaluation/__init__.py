"""Honest evaluation of a trained VAE: ELBO, importance-sampled log-likelihood, latent
diagnostics and the amortization gap, as plain documented functions."""

from keras_vae.evaluation.amortization import amortization_gap
from keras_vae.evaluation.disentanglement import disentanglement_metrics
from keras_vae.evaluation.elbo import elbo_terms
from keras_vae.evaluation.latents import (
    active_units,
    kl_per_dimension,
    latent_codes,
    posterior_parameters,
)
from keras_vae.evaluation.likelihood import (
    importance_sampled_log_likelihood,
    log_importance_weights,
)


__all__ = [
    "active_units",
    "amortization_gap",
    "disentanglement_metrics",
    "elbo_terms",
    "importance_sampled_log_likelihood",
    "kl_per_dimension",
    "log_importance_weights",
    "latent_codes",
    "posterior_parameters",
]
