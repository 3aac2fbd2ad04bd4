"""inceptionspec: a declarative spec compiler for Inception-family networks.

The static path (load, analyze, expand, schema) never imports TensorFlow.
"""

from __future__ import annotations

from .analysis import Analysis, analyze
from .errors import Diagnostic, Loc, SpecError
from .models import Spec
from .pipeline import dump, load

__all__ = ["Analysis", "Diagnostic", "Loc", "Spec", "SpecError", "analyze", "dump", "load"]
