"""The ``weights:`` section of a spec: which pretrained checkpoints map onto it.

A checkpoint *layout* (``inceptionspec/weights/layouts/NAME.yaml``) says how the tensor names of
one library's model (timm's ``inception_v4``, torchvision's ``googlenet``) map onto a spec's
layers. A spec lists the layouts whose models compute what it computes; ``--weights-from`` loads
a checkpoint only into a spec that lists its layout. Variants inherit the list through
``extends``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from inceptionspec.lang.node import Node

LayoutName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=64)]


class PretrainedWeights(Node):
    """Checkpoints this spec can load with ``--weights-from`` (see the "Pretrained weights" docs page)."""

    layouts: list[LayoutName] = Field(
        default_factory=list,
        description="Checkpoint layouts whose tensors map onto this spec, by name "
        "(`timm_inception_v4`, `torchvision_googlenet`; `inceptionspec/weights/layouts/`).",
    )
