"""Initializers that give the same bits on every Keras backend.

Keras' seeded initializers draw from the backend's random generator, so one seed gives one set of
weights on TensorFlow, another on JAX and a third on PyTorch; on JAX each new kernel shape also
compiles its own XLA program (most of the time a first GoogLeNet build takes there). These draw
with NumPy from a seed derived from (spec seed, layer name) and hand the backend finished values:
the same spec and seed give bit-identical weights on every backend and in every process.

They are registered under the ``inceptionspec`` package, so saved models name them and reload in
safe mode.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from inceptionspec.keras.layers import PACKAGE


class NumpyInitializer(keras.initializers.Initializer):
    """Base: values drawn in float64 by NumPy's PCG64 from ``seed``, rounded once to float32, then
    cast by the backend to the variable's dtype (the same IEEE rounding everywhere)."""

    def __init__(self, seed: int = 0):
        self.seed = int(seed)

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        shape = tuple(int(d) for d in shape)
        values = self.draw(np.random.default_rng(self.seed), shape).astype(np.float32)
        dtype = keras.backend.standardize_dtype(dtype or keras.backend.floatx())
        tensor = to_backend(values)
        return tensor if dtype == "float32" else keras.ops.cast(tensor, dtype)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


def to_backend(values: np.ndarray) -> Any:
    """A NumPy array as a backend tensor. On JAX ``device_put``: ``jnp.asarray`` compiles a
    conversion program for every new shape (~20 ms each, a whole second for GoogLeNet)."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.device_put(values)
    return keras.ops.convert_to_tensor(values)


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) as Keras counts them: a kernel (..., in, out) has a receptive field of
    the leading dimensions."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


@keras.saving.register_keras_serializable(package=PACKAGE)
class GlorotUniform(NumpyInitializer):
    """Uniform on [-limit, limit] with limit = sqrt(6 / (fan_in + fan_out)), Keras' default kernel
    initializer."""

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        fan_in, fan_out = fans(shape)
        limit = np.sqrt(6.0 / max(1, fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape)


@keras.saving.register_keras_serializable(package=PACKAGE)
class Constant(NumpyInitializer):
    """Every value ``value`` (biases, batch-norm statistics): Keras' ``zeros`` / ``ones`` compile a
    program per new shape on JAX too."""

    def __init__(self, value: float = 0.0, seed: int = 0):
        super().__init__(seed)
        self.value = float(value)

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return np.full(shape, self.value)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


def batch_norm_initializers() -> dict[str, Constant]:
    """Keyword arguments of ``keras.layers.BatchNormalization``: its usual initial values, drawn here."""
    return {
        "beta_initializer": Constant(0.0),
        "gamma_initializer": Constant(1.0),
        "moving_mean_initializer": Constant(0.0),
        "moving_variance_initializer": Constant(1.0),
    }


INITIALIZERS = {cls.__name__: cls for cls in (GlorotUniform, Constant)}
