"""Training and evaluation data, read as hostile input: image folders and ``.npz`` arrays.

Scanning and checking happen here, without TensorFlow, so bad data is reported (with its path,
exit 1) before a framework is imported; :mod:`inceptionspec.keras.train.pipeline` then reads the
checked files with ``tf.data``.
"""

from __future__ import annotations

from inceptionspec.data.errors import DataBudget, DataError, Problem, shown
from inceptionspec.data.folders import IMAGE_SUFFIXES, ImageFolder, scan_folder

__all__ = ["IMAGE_SUFFIXES", "DataBudget", "DataError", "ImageFolder", "Problem", "scan_folder", "shown"]
