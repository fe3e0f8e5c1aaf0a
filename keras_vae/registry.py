"""One look-up for every swappable part: a name, a serialized config, an instance or a function."""

import keras


def resolve(identifier, arg_name, registry, base, label, wrap_callable=None):
    """Returns the object `identifier` stands for.

    Args:
        identifier: a name in `registry` (case-insensitive), a dict from
            `keras.saving.serialize_keras_object`, an instance of `base`, or (when
            `wrap_callable` is given) a function, wrapped by it.
        arg_name: str. The argument's name in error messages.
        registry: dict `{name: factory}`.
        base: the class every part of this role derives from.
        label: str. How messages name `base`, e.g. "keras_vae.distributions.Prior".
        wrap_callable: callable or None. Turns a user's function into a part.
    """
    if isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() not in registry:
            raise ValueError(f"Argument `{arg_name}` must be one of {sorted(registry)} or a "
                             f"{label}. Received: {arg_name}={identifier!r}")
        return registry[identifier.lower()]()
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if wrap_callable is not None and callable(identifier):
        return wrap_callable(identifier)
    function = ", a function returning a tfd.Distribution" if wrap_callable else ""
    raise TypeError(f"Argument `{arg_name}` must be a name, a config dict{function} or a "
                    f"{label}. Received: {arg_name}={identifier!r} of type "
                    f"{type(identifier).__name__}")


def unregistered_function(fn):
    """None if `fn` is registered with `keras.saving.register_keras_serializable` (a saved
    model finds it again at `keras.models.load_model`), else why it is not, in words."""
    if keras.saving.get_registered_object(keras.saving.get_registered_name(fn)) is fn:
        return None
    name = getattr(fn, "__qualname__", repr(fn))
    return (f"the function {name!r} is not registered with "
            "@keras.saving.register_keras_serializable(), so keras.models.load_model could not "
            "find it again; decorate it (at module level, imported before loading)")
