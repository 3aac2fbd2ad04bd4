"""The language of training: input preprocessing, learning-rate schedules, augmentation.

`Spec.preprocessing` and `Training.schedule` / `Training.augmentation` (in
:mod:`inceptionspec.lang.models`) use these models; `inceptionspec train`,
`evaluate` and `predict` apply them (:mod:`inceptionspec.keras.train`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from inceptionspec.lang.node import Node
from inceptionspec.ops import PosInt

Positive = Annotated[float, Field(gt=0, le=1_000_000)]
PerChannel = Positive | Annotated[list[Positive], Field(min_length=1, max_length=4)]
Offset = Annotated[float, Field(ge=0, le=1_000_000)]


class Preprocessing(Node):
    """How an image's pixels (0–255, RGB) become the network's input: ``(x[channels] − mean) / std``.

    The TF-ported Inceptions expect [-1, 1] (``mean: 127.5, std: 127.5``); torchvision's
    models ImageNet's mean and standard deviation; BVLC Caffe's GoogLeNet BGR pixels minus
    the mean pixel (``channels: bgr, mean: [104, 117, 123], std: 1``)."""

    channels: Literal["rgb", "bgr"] = Field(
        "rgb", description="Channel order the network expects (Caffe models: `bgr`); ignored for grayscale input."
    )
    mean: Offset | Annotated[list[Offset], Field(min_length=1, max_length=4)] = Field(
        0.0,
        description="Subtracted from every pixel value (0–255): one number, or one per channel in `channels` order.",
    )
    std: PerChannel = Field(
        255.0, description="Then divided by this: one number, or one per channel (the default maps 0–255 to 0–1)."
    )


# --- learning-rate schedules ------------------------------------------------------------


class _Schedule(Node):
    kind: str = Field(description="Which schedule.")
    warmup_epochs: Annotated[float, Field(ge=0, le=10_000)] = Field(
        0.0, description="Epochs over which the rate rises linearly from 0 to the optimizer's `learning_rate`."
    )


class ConstantSchedule(_Schedule):
    """The optimizer's `learning_rate` throughout."""

    kind: Literal["constant"] = Field(description="`constant`.")


class StepSchedule(_Schedule):
    """Multiplied by `factor` every `every` epochs (GoogLeNet: 0.96 every 8)."""

    kind: Literal["step"] = Field(description="`step`.")
    every: PosInt = Field(description="Epochs between two steps.")
    factor: Annotated[float, Field(gt=0, le=1)] = Field(description="Each step multiplies the rate by this.")


class ExponentialSchedule(_Schedule):
    """Multiplied by `factor` per `every` epochs, continuously (step by step, not in stairs)."""

    kind: Literal["exponential"] = Field(description="`exponential`.")
    factor: Annotated[float, Field(gt=0, le=1)] = Field(
        description="The rate is multiplied by this per `every` epochs."
    )
    every: Annotated[float, Field(gt=0, le=10_000)] = Field(1.0, description="Epochs over which `factor` applies.")


class CosineSchedule(_Schedule):
    """Half a cosine from the optimizer's `learning_rate` (after the warm-up) down to `final` of it."""

    kind: Literal["cosine"] = Field(description="`cosine`.")
    final: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="The rate at the end of the last epoch, as a fraction of the initial rate."
    )


SCHEDULES: dict[str, type[_Schedule]] = {
    "constant": ConstantSchedule,
    "step": StepSchedule,
    "exponential": ExponentialSchedule,
    "cosine": CosineSchedule,
}


def _schedule_kind(value: Any) -> str | None:
    if isinstance(value, _Schedule):
        return value.kind  # type: ignore[attr-defined,no-any-return]
    kind = value.get("kind") if isinstance(value, dict) else None
    return kind if kind in SCHEDULES else None


Schedule = Annotated[
    Annotated[ConstantSchedule, Tag("constant")]
    | Annotated[StepSchedule, Tag("step")]
    | Annotated[ExponentialSchedule, Tag("exponential")]
    | Annotated[CosineSchedule, Tag("cosine")],
    Discriminator(
        _schedule_kind,
        custom_error_type="schedule",
        custom_error_message="a schedule is a mapping with `kind`: " + ", ".join(f"`{k}`" for k in SCHEDULES),
    ),
]
"""How the learning rate changes over the epochs; one of :data:`SCHEDULES`, chosen by ``kind``."""


# --- augmentation -------------------------------------------------------------------------

Fraction = Annotated[float, Field(gt=0, le=1)]
Ratio = Annotated[float, Field(gt=0, le=100)]


class RandomResizedCrop(Node):
    """A random crop of a random area and aspect ratio, resized to the input size (Inception's crop)."""

    scale: Annotated[list[Fraction], Field(min_length=2, max_length=2)] = Field(
        default_factory=lambda: [0.08, 1.0], description="[min, max] fraction of the image's area kept."
    )
    ratio: Annotated[list[Ratio], Field(min_length=2, max_length=2)] = Field(
        default_factory=lambda: [0.75, 4 / 3], description="[min, max] aspect ratio (width / height) of the crop."
    )

    @model_validator(mode="after")
    def _ordered(self) -> RandomResizedCrop:
        for name in ("scale", "ratio"):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"`{name}` is [min, max]; got [{low}, {high}]")
        return self


class Augmentation(Node):
    """Random changes to each training image (never to validation or evaluation images)."""

    random_resized_crop: RandomResizedCrop | None = Field(
        None, description="A random crop resized to the input size; `{}` for the usual ranges."
    )
    horizontal_flip: bool = Field(False, description="Mirror half of the images left to right.")
