"""A Keras model's config as plain data, for the importer (``inceptionspec import``).

The importer itself never imports Keras: it reads the config a ``.keras`` file holds. A model that
exists only in memory — one of keras.applications, or one built in a notebook — is serialised here
the way ``model.save`` would write its ``config.json``.
"""

from __future__ import annotations

import json
from typing import Any

import keras

from inceptionspec.keras.weights import KERAS_APPLICATIONS


def model_config(model: keras.Model) -> dict[str, Any]:
    """What ``model.save`` writes as ``config.json``, as plain JSON data."""
    return json.loads(json.dumps(keras.saving.serialize_keras_object(model)))


def application_config(name: str) -> dict[str, Any]:
    """The config of ``keras.applications.<name>(weights=None)``: built with random weights, nothing downloaded."""
    if name not in KERAS_APPLICATIONS:
        raise ValueError(f"unknown keras.applications model `{name}`; known: {', '.join(KERAS_APPLICATIONS)}")
    factory = getattr(keras.applications, name)
    model = factory(weights=None)
    try:
        return model_config(model)
    finally:
        keras.backend.clear_session()
