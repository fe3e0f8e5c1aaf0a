"""The serving signatures a model's SavedModel offers (`keras_vae.export_saved_model`) and the
metadata a client of the export reads."""

import keras
import tensorflow as tf


def elbo_endpoint(model):
    """`{"elbo": (fn, input specs)}`: the serving signature of a model's ELBO, its terms at one
    draw of the noise with an int32 `seed`."""
    images = tf.TensorSpec((None, *model.data_shape), tf.float32, name="images")
    seed = tf.TensorSpec((), tf.int32, name="seed")

    def elbo(images, *condition_and_seed):
        *condition, seed = condition_and_seed
        terms = model.loss_terms(model.serving_inputs(images, *condition), seed=seed)
        return {key: terms[key] for key in ("elbo", "reconstruction_loss", "kl_loss")}

    return {"elbo": (elbo, [images, *model.serving_condition(), seed])}


class Servable:
    """The serving signatures and metadata of a `BaseAutoencoder` (see there)."""

    def serving_condition(self) -> list:
        """The specs of the condition every signature takes after its images or z: none here
        (the conditional VAE's int32 `labels`)."""
        return []

    def serving_inputs(self, images, condition=None):
        """What the model is called on for served `images` and their `condition`: the images
        alone here."""
        return images

    def serving_endpoints(self):
        """The signatures `keras_vae.export_saved_model` writes: `{name: (fn, input specs)}`,
        from what the model can do: reconstruct, encode and decode always (each with the
        model's `serving_condition`), sample when it is generative. Subclasses add their own."""
        images = tf.TensorSpec((None, *self.data_shape), tf.float32, name="images")
        latents = tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")
        condition = self.serving_condition()

        def reconstruct(images, *condition):
            return {"reconstructions": self(self.serving_inputs(images, *condition),
                                            training=False)}

        def encode(images, *condition):
            return dict(zip(self.encoding_names(),
                            self.encode(self.serving_inputs(images, *condition))))

        def decode(z, *condition):
            return {"images": self.decode(z, *condition)}

        endpoints = {
            "serving_default": (reconstruct, [images, *condition]),
            "encode": (encode, [images, *condition]),
            "decode": (decode, [latents, *condition]),
        }
        if self.generative:
            def sample(n, seed):
                return {"images": self.sample(n, seed=seed)}

            endpoints["sample"] = (sample, [tf.TensorSpec((), tf.int32, name="n"),
                                            tf.TensorSpec((), tf.int32, name="seed")])
        return endpoints

    def serving_metadata(self):
        """What a client of an export needs to know, as JSON-ready values."""
        high = self.likelihood.support[1]
        signatures = {
            "serving_default": "images -> reconstructions (decoder mean at the latent code)",
            "encode": f"images -> {', '.join(self.encoding_names())}",
            "decode": "z -> images (decoder mean)",
        }
        if self.generative:
            signatures["sample"] = ("n (int32), seed (int32) -> images (decoder means of "
                                    "z ~ p(z))")
        return {
            "model": type(self).__name__,
            "input_shape": list(self.data_shape),
            "input_dtype": "float32",
            "latent_dim": self.latent_dim,
            "likelihood": keras.saving.serialize_keras_object(self.likelihood),
            "preprocessing": f"images scaled to {self.likelihood.describe_support()} "
            f"(uint8 pixels divided by 255)" if high != float("inf") else "none required",
            "signatures": signatures,
        }
