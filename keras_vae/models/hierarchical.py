"""The hierarchical VAE: L stochastic layers, inference top-down beside the generative path."""

import dataclasses
import os

import keras
import numpy as np
from keras import ops

from keras_vae import objectives, plotting
from keras_vae.arguments import check_count, check_int_list
from keras_vae.layers.sampling import standard_normal
from keras_vae.losses import get_objective
from keras_vae.models.base import BaseAutoencoder, built_network, elbo_endpoint
from keras_vae.networks.hierarchy import feature_map_hierarchy

LATENT_LAYOUTS = ("vector", "feature_maps")


def _checked_sizes(name, values):
    return tuple(check_int_list(name, values, 1, allow_int=True))


def mlp_heads(inputs, hidden_units, activation, sizes, prefix, heads_start_at_zero=False):
    """Dense layers of `hidden_units` on `inputs`, then linear `mean` and `log_var` heads of
    `sizes` (their kernels zero where `heads_start_at_zero`); returns
    `(features, [mean, log_var])`."""
    h = inputs
    for i, units in enumerate(hidden_units):
        h = keras.layers.Dense(units, activation=activation, name=f"{prefix}_hidden_{i}")(h)
    initializer = "zeros" if heads_start_at_zero else "glorot_uniform"
    return h, [keras.layers.Dense(sizes, kernel_initializer=initializer,
                                  name=f"{prefix}_{head}")(h) for head in ("mean", "log_var")]


def layer_names(sizes):
    return tuple(f"z{layer + 1}" for layer in range(len(sizes)))


@keras.saving.register_keras_serializable(package="keras_vae")
class HierarchicalVAE(BaseAutoencoder):
    """A VAE with L >= 2 stochastic layers and top-down inference (Ladder VAE, NVAE).

    #### Mathematical details

    Generative path: p(z_L) = N(0, I), p(z_l | z_{l+1}) = N(mu_l(z_{l+1}), sigma_l^2(z_{l+1}))
    from the top-down networks (`top_down[l]`), and p(x | z_1) from the decoder.

    Inference runs in two passes (Sonderby et al. 2016). The encoder is the bottom-up
    deterministic path: from x it computes, for every layer l, a shift d_l(x) and a log-scale
    log s_l^2(x), linear heads on its features. The top-down pass then samples
    z_L ~ q(z_L | x) = N(d_L, s_L^2) and, for l = L-1 ... 1,
    q(z_l | z_{l+1}, x) = N(mu_l + d_l + e_l, sigma_l^2 s_l^2 exp(f_l)), where (e_l, f_l) are
    linear heads on the top-down network's features of z_{l+1}: NVAE's residual
    parameterization relative to the prior with a linear combiner of the bottom-up and
    top-down features (Vahdat & Kautz 2020, Sec. 3.2; `objectives.residual_gaussian`). The
    top-down heads start at zero; the top layer is the same formula with mu = 0, sigma = 1.

    The prior's heads (mu_l, log sigma_l^2) start at zero as well (`from_architecture`), so
    that p(z_l | z_{l+1}) starts as N(0, I) and the model as the one-layer VAE. On MNIST the
    model trains with gradient clipping, free bits and the ELBO of several samples of z per
    image (the recipe in the example below). Why this form and not the Ladder VAE's
    precision-weighted merge, and what each choice is worth: docs/results/hierarchy.md.

    All log-variances are bounded (`objectives.bounded_log_variance`), so that the model is
    NaN-free in float32 and under mixed precision (its distributions are computed in float32).

    The ELBO is E_q[log p(x|z_1)] - sum_l KL_l with KL_l = E_q(z_{>l}|x)[KL(q(z_l|z_{l+1},x) ||
    p(z_l|z_{l+1}))]: each KL analytic between the two Gaussians, Monte Carlo over the layers
    above. The objectives (`"elbo"` with warm-up and free bits on every dimension of every
    layer, `"iwae"`) and the importance-sampled log-likelihood use the log-weights
    log p(x|z_1) + log p(z) - log q(z|x) with p(z) and q(z|x) over the whole hierarchy.

    A latent vector of the model is the concatenation [z_1, ..., z_L] (`latent_dim` is the sum
    of the layers' sizes): `latent_code` and `encode` give every layer, `decode(z)` reads z_1.

    `from_architecture` builds two layouts of the layers (`latent_layout`). `"vector"`: the
    backbone (`mlp`, `conv` or `resnet`) carries a flat z_1 and MLPs the layers above, the IWAE
    paper's two-layer model. `"feature_maps"` (`resnet`): every layer a feature map on one of
    the backbone's smallest grids, z_L on the smallest, with convolutional top-down networks
    (`networks.feature_map_hierarchy`), as NVAE and VDVAE place theirs; each layer travels
    flattened, so the model is the same code for both.

    Args:
        encoder: `keras.Model`, the bottom-up path: from `(batch, *input_shape)` to
            `[z1_mean, z1_log_var, ..., zL_mean, zL_log_var]`, the estimates of every layer.
        decoder: `keras.Model` from `(batch, size of z_1)` to the likelihood's parameters.
        top_down: list of L-1 `keras.Model`s, `top_down[l]` from z_{l+2} `(batch, size)` to
            `[mean, log_var, q_mean, q_log_var]` of z_{l+1} (0-based lists, 1-based layers):
            p(z_{l+1} | z_{l+2}), and the top-down half of q's shift.
        likelihood: as for `VAE`. Defaults to `"bernoulli"`.
        objective: str, dict or `keras_vae.losses.Objective`. `"elbo"` or `"iwae"`, or an
            `ELBO(beta=..., free_bits=..., kl_warmup_steps=...)`. Defaults to `"elbo"`.
        seed: int or None. Seed of the sampling noise.
        **kwargs: standard `keras.Model` arguments.

    Example:

    ```python
    hvae = keras_vae.HierarchicalVAE.from_architecture(
        (28, 28, 1), 100, hidden_units=[200, 200], activation="tanh",
        upper_latent_dims=[50], upper_hidden_units=[100, 100],
        objective=keras_vae.losses.ELBO(free_bits=0.1, free_bits_decay_steps=50 * steps,
                                        mc_samples=5))  # the recipe, with steps per epoch
    hvae.compile(optimizer=keras.optimizers.Adam(2e-3, global_clipnorm=1.0))
    hvae.fit(x_train, epochs=100, batch_size=100)
    images = hvae.sample(16, seed=0)

    # colour images: z_1 8 channels on the 8x8 grid, z_2 8 channels on the 4x4 grid
    colour = keras_vae.HierarchicalVAE.from_architecture(
        (32, 32, 3), 8, architecture="resnet", hidden_units=[32, 64, 128], blocks=1,
        likelihood="logistic_mixture", latent_layout="feature_maps", upper_latent_dims=[8])
    ```

    References:
        Sonderby, C. K. et al. Ladder Variational Autoencoders. NeurIPS 2016 (top-down inference,
            KL warm-up).
        Burda, Y., Grosse, R. and Salakhutdinov, R. Importance Weighted Autoencoders. ICLR 2016
            (the two-stochastic-layer MLP).
        Vahdat, A. and Kautz, J. NVAE: A Deep Hierarchical Variational Autoencoder. NeurIPS 2020.
    """

    generative = True
    has_posterior = True
    kl_analytic = True  # per layer, given the layers above
    kl_factorizes = True
    @classmethod
    def recipe(cls, recipe):
        """On binarized images, the IWAE paper's two-layer network (784-200-200 to z_1 of 100,
        100-100 to z_2 of 50, tanh) with the settings docs/results/hierarchy.md measured:
        gradients clipped to norm 1, a free-bits floor of 0.1 nats falling to 0 over the first
        half of training, 5 samples of z per image (-91.66 nats at 100 epochs against the
        one-layer default's -94.94). On 8-bit images with the resnet, z_1 and z_2 of 8
        channels on the 8x8 and 4x4 feature maps (0.2 to 0.5 bits/dim better than the flat
        one-layer model at 8 epochs on CIFAR-10)."""
        if recipe.binarize and recipe.architecture == "mlp":
            return dataclasses.replace(
                recipe, hidden_units=(200, 200), activation="tanh", latent_dim=100,
                clip_norm=1.0, objective={"mc_samples": 5, "free_bits": 0.1,
                                          "free_bits_decay": 0.5},
                model_arguments={"latent_layout": "vector", "upper_latent_dims": (50,),
                                 "upper_hidden_units": (100, 100)},
                why="the two-layer recipe of docs/results/hierarchy.md")
        if recipe.architecture == "resnet":
            return dataclasses.replace(
                recipe, latent_dim=8, model_arguments={
                    "latent_layout": "feature_maps", "upper_latent_dims": (8,)},
                why=recipe.why + "; latents on feature maps, docs/results/hierarchy.md")
        return recipe

    @classmethod
    def architecture_heads(cls, latent_dim, parts):
        """The bottom-up heads of every layer; resolves `upper_latent_dims` and
        `upper_hidden_units` in `parts` (the networks' sizes, not the model's arguments)."""
        layout = parts.pop("latent_layout", "vector")
        if layout not in LATENT_LAYOUTS:
            raise ValueError(f"Argument `latent_layout` must be one of {list(LATENT_LAYOUTS)}. "
                             f"Received: latent_layout={layout!r}")
        upper = _checked_sizes("upper_latent_dims", parts.pop("upper_latent_dims", (50,)))
        hidden = parts.pop("upper_hidden_units", None)
        if layout == "feature_maps" and hidden is not None:
            raise ValueError(
                "Argument `upper_hidden_units` applies to latent_layout='vector' only: with "
                "feature maps the top-down networks use the backbone's filters (hidden_units). "
                f"Received: upper_hidden_units={hidden!r} with latent_layout={layout!r}")
        hidden = (100, 100) if hidden is None else hidden
        parts["_upper"] = (layout, upper, _checked_sizes("upper_hidden_units", hidden))
        return {"z1_mean": latent_dim, "z1_log_var": latent_dim}

    @classmethod
    def build_networks(cls, architecture, input_shape, latent_dim, hidden_units, activation,
                       heads, output_channels, parts, **options):
        """With `latent_layout="vector"`: the backbone's encoder and decoder for z_1 (`mlp`,
        `conv` or `resnet`), the encoder extended upward by an MLP of `upper_hidden_units` and
        two heads per upper layer on the features below, and one top-down MLP per upper
        layer. With `"feature_maps"` (resnet only): `networks.feature_map_hierarchy`."""
        layout, upper, upper_hidden = parts.pop("_upper")
        if layout == "feature_maps":
            if architecture != "resnet":
                raise ValueError(
                    "Argument `latent_layout`='feature_maps' needs architecture='resnet' (the "
                    "latents live on its feature maps). Received: "
                    f"architecture={architecture!r}")
            encoder, decoder, parts["top_down"] = feature_map_hierarchy(
                input_shape, (latent_dim, *upper), activation=activation,
                output_channels=output_channels, **options,
                **({} if hidden_units is None else {"hidden_units": hidden_units}))
            return encoder, decoder
        encoder, decoder = super().build_networks(
            architecture, input_shape, latent_dim, hidden_units, activation, heads,
            output_channels, parts, **options)
        features = encoder.get_layer("z1_mean").input
        outputs = list(encoder.outputs)
        for layer, size in enumerate(upper, start=2):
            features, estimate = mlp_heads(features, upper_hidden, activation, size,
                                           f"up{layer}")
            outputs += estimate
        encoder = keras.Model(encoder.inputs[0], outputs, name="bottom_up")
        sizes = (latent_dim, *upper)
        top_down = []
        for layer in range(1, len(sizes)):
            inputs = keras.Input((sizes[layer],), name=f"z{layer + 1}")
            # p(z_l | z_{l+1}) starts as N(0, I) whatever z_{l+1}: the model starts as the
            # one-layer VAE, z_{l+1} feeding z_l no noise until it carries something.
            features, params = mlp_heads(inputs, upper_hidden, activation, sizes[layer - 1],
                                         f"p{layer}", heads_start_at_zero=True)
            # The top-down half of q's linear combiner, 0 at the start: q = p shifted by x.
            params += [keras.layers.Dense(sizes[layer - 1], use_bias=False,
                                          kernel_initializer="zeros", name=f"q{layer}_{head}")(
                features) for head in ("mean", "log_var")]
            top_down.append(keras.Model(inputs, params, name=f"top_down_{layer}"))
        parts["top_down"] = top_down
        return encoder, decoder

    def __init__(self, encoder, decoder, top_down, likelihood="bernoulli", objective="elbo",
                 seed=None, **kwargs):
        if not isinstance(top_down, (list, tuple)) or not top_down:
            raise ValueError("Argument `top_down` must be a non-empty list of built Keras "
                             "models, one per layer above z_1. Received: "
                             f"top_down={top_down!r}")
        super().__init__(encoder, decoder, likelihood=likelihood, seed=seed, **kwargs)
        self.top_down = list(top_down)
        self.check_top_down()
        self.objective = get_objective(objective)
        if getattr(self.objective, "gradient", "reparameterization") != "reparameterization":
            raise ValueError(
                "Argument `objective` of a HierarchicalVAE must use the reparameterization "
                "gradient: the score-function estimator is not implemented over a hierarchy. "
                f"Received: objective={self.objective!r}")
        self.check_networks()
        self.objective.check(self)
        self.track_loss_terms()

    @staticmethod
    def network_shapes(encoder, decoder):
        """`(data_shape, latent_dim)`, `latent_dim` the sum of the layers' sizes, read off the
        bottom-up heads (a mean and a log-variance per layer)."""
        data_shape = built_network(encoder, "encoder")
        heads = encoder.outputs
        if len(heads) < 4 or len(heads) % 2:
            raise ValueError("Argument `encoder` must output a mean and a log-variance for each "
                             f"of at least 2 layers. Received: {len(heads)} output(s)")
        return data_shape, sum(int(o.shape[-1]) for o in heads[0::2])

    @property
    def latent_sizes(self):
        """The sizes of z_1 ... z_L, read off the bottom-up heads."""
        return tuple(int(o.shape[-1]) for o in self.encoder.outputs[0::2])

    def check_top_down(self):
        """Raises `ValueError` unless `top_down` chains the layers and the decoder takes z_1."""
        if len(self.top_down) != self.num_layers - 1:
            raise ValueError(
                f"Argument `top_down` must hold {self.num_layers - 1} network(s), one per layer "
                f"above z1 (the encoder has {self.num_layers} layers). Received: "
                f"{len(self.top_down)}")
        for layer, network in enumerate(self.top_down, start=1):
            below, above = self.latent_sizes[layer - 1], self.latent_sizes[layer]
            received = built_network(network, "top_down")
            shapes = [tuple(o.shape[1:]) for o in network.outputs]
            if received != (above,) or shapes != [(below,)] * 4:
                raise ValueError(
                    f"Argument `top_down` must hold at {layer - 1} a network from z{layer + 1} "
                    f"(batch, {above}) to [mean, log_var, q_mean, q_log_var] of z{layer}, each "
                    f"(batch, {below}). Received: input {received}, outputs {shapes}")
        received = built_network(self.decoder, "decoder")
        if received != (self.latent_sizes[0],):
            raise ValueError(f"Argument `decoder` must take z1 (batch, {self.latent_sizes[0]}). "
                             f"Received: input {received}")

    @property
    def num_layers(self):
        return len(self.latent_sizes)

    @property
    def metric_names(self):
        return (*self.objective.metric_names, *(f"kl_{n}" for n in layer_names(self.latent_sizes)))

    def encoder_heads(self):
        return {f"{name}_{head}": size for name, size in zip(layer_names(self.latent_sizes),
                                                             self.latent_sizes)
                for head in ("mean", "log_var")}

    def describe_heads(self):
        return "the bottom-up path of the hierarchy"

    def describe(self):
        return (f"{type(self).__name__}, {self.num_layers} layers "
                f"{list(self.latent_sizes)}, {self.likelihood.kind} likelihood, objective "
                f"{self.objective.describe()}")

    def distribution_summary(self):
        return {"prior": "top-down hierarchy, p(z_L) = N(0, I)",
                "posterior": "top-down, residual relative to the prior (NVAE)",
                "objective": self.objective.describe(), "kl": "analytic per layer",
                "latent_sizes": list(self.latent_sizes)}

    # ----------------------------------------------------------------- the two passes

    def posterior_params(self, outputs):
        """The bottom-up estimates `[m_1, log s_1^2, ..., m_L, log s_L^2]` from the encoder's
        raw outputs, log-variances bounded."""
        outputs = [ops.cast(o, "float32") for o in outputs]
        return [o if i % 2 == 0 else objectives.bounded_log_variance(o)
                for i, o in enumerate(outputs)]

    def top_down_params(self, layer, z_above, training=False):
        """`(p, shift)` for layer `layer` (1-based) given `z_above` `(..., size)`, any leading
        axes: p = `(mean, log_var)` of p(z_layer | z_{layer+1}), shift = the top-down part of
        q's residual `(mean, log_var)`."""
        leading = ops.shape(z_above)[:-1]
        flat = ops.reshape(z_above, (-1, self.latent_sizes[layer]))
        outputs = self.top_down[layer - 1](flat, training=training)
        shape = (*leading, self.latent_sizes[layer - 1])
        mean, log_var, q_mean, q_log_var = [ops.reshape(ops.cast(o, "float32"), shape)
                                            for o in outputs]
        bounded = objectives.bounded_log_variance
        return (mean, bounded(log_var)), (q_mean, bounded(q_log_var))

    def top_down_pass(self, params, eps=None, training=False):
        """The top-down pass from the bottom-up estimates `params`: for every layer, top
        first, q(z_l | z_{l+1}, x) and p(z_l | z_{l+1}), and z_l = mean + sigma * eps_l
        (the posterior mean where `eps` is None). `eps` is a list of noise tensors
        `(samples, batch, size)` per layer, bottom first. Returns a list, bottom first, of
        dicts `q` and `p` (each `(mean, log_var)`) and `z`."""
        layers = [None] * self.num_layers
        z_above = None
        for index in reversed(range(self.num_layers)):
            estimate = (params[2 * index], params[2 * index + 1])
            if eps is not None:
                estimate = tuple(ops.expand_dims(v, 0) for v in estimate)
            if z_above is None:
                p = (ops.zeros_like(estimate[0]), ops.zeros_like(estimate[1]))
                q = estimate
            else:
                p, shift = self.top_down_params(index + 1, z_above, training=training)
                q = objectives.residual_gaussian(estimate[0] + shift[0],
                                                 estimate[1] + shift[1], *p)
            z = q[0] if eps is None else objectives.reparameterize(q[0], q[1], eps[index])
            layers[index] = {"q": q, "p": p, "z": z}
            z_above = z
        return layers

    def _noise(self, num_samples, batch, seed):
        eps = standard_normal((num_samples, batch, self.latent_dim), seed=self.noise_seed(seed),
                              batch_axis=1)
        return ops.split(eps, list(_cumulative(self.latent_sizes)), axis=-1)

    def sampled_terms(self, x, num_samples, seed=None, training=False, params=None,
                      log_prob=None, fixed_samples=False):
        """As `VAE.sampled_terms`, over the hierarchy: `params` the bottom-up estimates, `z`
        `(samples, batch, latent_dim)` all layers, `log_q` and `log_pz` `(samples, batch)`
        summed over the layers, `kl_layers` the analytic KL of each layer per dimension
        `(samples, batch, size)` and `log_px_z`."""
        if fixed_samples:
            raise ValueError("A HierarchicalVAE has no score-function gradient. Received: "
                             "fixed_samples=True")
        images = ops.cast(x, "float32")
        if params is None:
            params = self.posterior_params(self.encoder_outputs(images, training=training))
        params = list(params)
        eps = self._noise(num_samples, ops.shape(images)[0], seed)
        layers = self.top_down_pass(params, eps, training=training)
        log_q = sum(objectives.reparameterized_log_density(e, 0.5 * layer["q"][1])
                    for e, layer in zip(eps, layers))
        log_pz = sum(objectives.diagonal_normal_log_density(layer["z"], *layer["p"])
                     for layer in layers)
        z = ops.concatenate([layer["z"] for layer in layers], axis=-1)
        return {
            "params": params,
            "z": z,
            "log_q": log_q,
            "log_pz": log_pz,
            "kl_layers": [objectives.kl_diagonal_gaussians(*layer["q"], *layer["p"])
                          for layer in layers],
            "log_px_z": self.log_likelihood(images, layers[0]["z"], training=training,
                                            log_prob=log_prob),
        }

    def log_importance_weights(self, x, num_samples, seed=None, training=False, params=None,
                               log_prob=None):
        """`(log_w, terms)` as for `VAE`: log p(x|z_1) + log p(z_1..z_L) - log q(z_1..z_L|x)."""
        terms = self.sampled_terms(x, num_samples, seed=seed, training=training, params=params,
                                   log_prob=log_prob)
        return objectives.log_weights(terms["log_px_z"], terms["log_pz"], terms["log_q"]), terms

    def kl_terms(self, terms):
        """`kl_loss` (the sum over layers) and `kl_z1` ... `kl_zL`, each `(batch,)`, the
        analytic KL per layer averaged over the samples of the layers above."""
        per_layer = [ops.mean(ops.sum(kl, axis=-1), axis=0) for kl in terms["kl_layers"]]
        named = {f"kl_{name}": kl for name, kl in zip(layer_names(self.latent_sizes), per_layer)}
        return {"kl_loss": sum(per_layer), **named}

    def kl_per_dimension_terms(self, terms):
        """Every layer's KL per dimension, concatenated `(batch, latent_dim)`: free bits floor
        each dimension of each layer."""
        return ops.concatenate([ops.mean(kl, axis=0) for kl in terms["kl_layers"]], axis=-1)

    def kl_per_dimension(self, x):
        """The KL of each dimension of each layer `(batch, latent_dim)` at one draw of the
        layers above (seed 0)."""
        return self.kl_per_dimension_terms(self.sampled_terms(x, 1, seed=0))

    def loss_terms(self, x, training=False, seed=None, step=None):
        """The objective's terms, with the KL of every layer (`kl_z1`, ...)."""
        return self.objective(self, x, training=training, seed=seed, step=step)

    # ------------------------------------------------------------------ the model's functions

    def encode(self, x, training=False):
        """`(z1_mean, z1_log_var, ..., zL_mean, zL_log_var)`: q of every layer along the
        posterior-mean path (each layer's q given the means of the layers above)."""
        params = self.posterior_params(self.encoder_outputs(x, training=training))
        layers = self.top_down_pass(params, training=training)
        return tuple(v for layer in layers for v in layer["q"])

    def latent_code(self, x, training=False):
        """[z_1, ..., z_L] along the posterior-mean path `(batch, latent_dim)`."""
        params = self.posterior_params(self.encoder_outputs(x, training=training))
        return ops.concatenate([layer["z"] for layer in self.top_down_pass(
            params, training=training)], axis=-1)

    def decoder_params(self, z, training=False, condition=None):
        """The likelihood's parameters for latent vectors `z` `(batch, latent_dim)`: the
        decoder reads their z_1."""
        if condition is not None:
            raise ValueError(f"A HierarchicalVAE takes no condition. Received: {condition!r}")
        z1 = ops.convert_to_tensor(z, "float32")[..., :self.latent_sizes[0]]
        return ops.cast(self.decoder(z1, training=training), "float32")

    @property
    def sampling_description(self):
        return "z_L ~ N(0, I), then z_l ~ p(z_l | z_{l+1}) down to z_1"

    def ancestral_sample(self, n, seed=None, given=None):
        """Draws `n` vectors [z_1, ..., z_L] `(n, latent_dim)` from the generative path: z_L
        from N(0, I), then each z_l from p(z_l | z_{l+1}). `given` `{layer: values (n, size)}`
        (1-based layers) holds those layers at the values given instead of drawing them."""
        check_count(n)
        given = dict(given or {})
        for layer, values in given.items():
            if layer not in range(1, self.num_layers + 1):
                raise ValueError(f"Argument `given` must name layers 1..{self.num_layers}. "
                                 f"Received: layer {layer!r}")
            expected = (n, self.latent_sizes[layer - 1])
            if tuple(np.shape(values)) != expected:
                raise ValueError(f"Argument `given` must hold values of shape {expected} for "
                                 f"layer {layer} (n, its size). Received: shape "
                                 f"{tuple(np.shape(values))}")
        eps = self._noise(1, n, seed)
        z_above, layers = None, [None] * self.num_layers
        for index in reversed(range(self.num_layers)):
            if index + 1 in given:
                z = ops.convert_to_tensor(given[index + 1], "float32")
            elif z_above is None:
                z = eps[index][0]
            else:
                (mean, log_var), _ = self.top_down_params(index + 1, z_above)
                z = objectives.reparameterize(mean, log_var, eps[index][0])
            layers[index] = z_above = z
        return ops.concatenate(layers, axis=-1)

    def sample(self, n, seed=None):
        """Decoder means of `n` ancestral samples; the same int `seed` gives the same images,
        here and in an exported SavedModel."""
        return self.decode(self.ancestral_sample(n, seed=seed))

    def own_figures(self, path, seed=0, images=None, labels=None, rows=8, columns=10):
        """For each layer l above z_1, `layer_samples_z<l>.png`: each row one draw of z_l..z_L
        held fixed, the layers below drawn again in each column; what stays the same along a
        row is what layer l decides."""
        figures = {}
        for layer in range(2, self.num_layers + 1):
            held = np.asarray(self.ancestral_sample(rows, seed=seed))
            given = {upper: np.repeat(held[:, a:b], columns, axis=0)
                     for upper, (a, b) in enumerate(_blocks(self.latent_sizes), start=1)
                     if upper >= layer}
            images = self.decode(self.ancestral_sample(rows * columns, seed=seed + 1,
                                                       given=given))
            fixed = f"z{layer}" + (f"..z{self.num_layers}" if layer < self.num_layers else "")
            caption = f"Samples: {fixed} held fixed along each row, the layers below drawn again"
            figures[caption] = plotting.save_image_grid(
                np.asarray(images), path(f"layer_samples_z{layer}.png"),
                f"one draw of {fixed} per row (seed {seed}), the layers below drawn again in "
                "each column", ncols=columns)
        return {caption: os.path.basename(file) for caption, file in figures.items()}

    def evaluation_metrics(self, images, labels=None, batch_size=500):
        """Active units (Burda et al. 2015: Var_x of the posterior mean above 0.01) and the
        mean KL of each layer, on `images`."""
        codes, kl = [], []
        for start in range(0, len(images), batch_size):
            x = ops.convert_to_tensor(images[start:start + batch_size], "float32")
            codes.append(ops.convert_to_numpy(self.latent_code(x)))
            kl.append(ops.convert_to_numpy(self.kl_per_dimension(x)))
        codes, kl = _concatenate(codes), _concatenate(kl)
        activity = codes.var(axis=0)
        blocks = _blocks(self.latent_sizes)
        return {
            "latent_sizes": list(self.latent_sizes),
            "active_units_per_layer": [int((activity[a:b] > 0.01).sum()) for a, b in blocks],
            "kl_per_layer": [float(kl[:, a:b].sum(axis=1).mean()) for a, b in blocks],
        }

    # ----------------------------------------------------------------------- serving, config

    def serving_endpoints(self):
        return {**super().serving_endpoints(), **elbo_endpoint(self)}

    def serving_metadata(self):
        metadata = super().serving_metadata()
        metadata["signatures"].update({
            "encode": "images -> mean and log-variance of q for every layer, along the "
            "posterior-mean path",
            "decode": "z ([z_1, ..., z_L]; the decoder reads z_1) -> images",
            "elbo": "images, seed (int32) -> elbo, reconstruction_loss, kl_loss "
            "(nats per example, one draw of the hierarchy with seed)",
        })
        return {**metadata, "latent_sizes": list(self.latent_sizes),
                "objective": keras.saving.serialize_keras_object(self.objective)}

    def get_config(self):
        return {
            **super().get_config(),
            "top_down": [keras.saving.serialize_keras_object(m) for m in self.top_down],
            "objective": keras.saving.serialize_keras_object(self.objective),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["top_down"] = [keras.saving.deserialize_keras_object(m)
                              for m in config["top_down"]]
        config["objective"] = get_objective(config["objective"])
        return super().from_config(config)


def _cumulative(sizes):
    """The split points of a vector of blocks of `sizes` (all but the end)."""
    total, points = 0, []
    for size in sizes[:-1]:
        total += size
        points.append(total)
    return points


def _blocks(sizes):
    """`(start, end)` of each layer's block in a vector [z_1, ..., z_L]."""
    ends = [*_cumulative(sizes), sum(sizes)]
    return list(zip([0, *ends[:-1]], ends))


def _concatenate(parts):
    return np.concatenate([np.asarray(p, np.float64) for p in parts])


__all__ = ["HierarchicalVAE"]
