"""The reference PyTorch models of the checkpoint layouts (needs torch, timm and torchvision).

Used by ``tests/fixtures/checkpoints/make_manifests.py`` (which writes the committed manifests)
and by the numerical tests in ``tests/test_checkpoints_torch.py``. Each reference is built with
random weights (the library's own initialisation, no download) and then given non-trivial
batch-norm statistics, so that a mapping that mixed up a mean and a variance, or two channels,
could not agree by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Layout name → (constructor source, as written in the manifest; the spec it loads into).
REFERENCES: dict[str, tuple[str, str]] = {
    "timm_inception_v4": ('timm.create_model("inception_v4", pretrained=False)', "inception_v4"),
    "timm_inception_resnet_v2": ('timm.create_model("inception_resnet_v2", pretrained=False)', "inception_resnet_v2"),
    "timm_inception_v3": ('timm.create_model("inception_v3", pretrained=False)', "inception_v3_torch"),
    "torchvision_inception_v3": (
        "torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True)",
        "inception_v3_torch",
    ),
    "torchvision_googlenet": (
        "torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=True)",
        "googlenet_bn",
    ),
}
#: Manifests of other configurations of the same layouts (the file name → layout, constructor).
VARIANTS: dict[str, tuple[str, str]] = {
    "torchvision_googlenet_no_aux": (
        "torchvision_googlenet",
        "torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True)",
    ),
}


def constructors() -> dict[str, Callable[[], Any]]:
    import timm
    import torchvision

    return {
        "timm_inception_v4": lambda: timm.create_model("inception_v4", pretrained=False),
        "timm_inception_resnet_v2": lambda: timm.create_model("inception_resnet_v2", pretrained=False),
        "timm_inception_v3": lambda: timm.create_model("inception_v3", pretrained=False),
        "torchvision_inception_v3": lambda: torchvision.models.inception_v3(
            weights=None, aux_logits=True, init_weights=True
        ),
        "torchvision_googlenet": lambda: torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=True),
        "torchvision_googlenet_no_aux": lambda: torchvision.models.googlenet(
            weights=None, aux_logits=False, init_weights=True
        ),
    }


def reference_model(name: str, seed: int = 0, gamma: bool = True) -> Any:
    """The reference model in eval mode: random weights, non-trivial batch-norm statistics.

    Beta (and gamma, unless ``gamma=False``: tf-slim's ported checkpoints have gamma 1) are random;
    the running statistics are those of a random batch (so activations stay in range through a
    hundred layers, as in a trained network), then each mean is shifted by a random tenth of a
    standard deviation or so and each variance scaled by 1 to 1.5, so no statistic is 0, 1 or a copy of
    another. Scaling variances up keeps the random network from amplifying rounding: with
    variances scaled down too, PyTorch's own float32 and float64 outputs differ by 1e-4 relative
    on Inception v4, as much as the tolerance. Linear layers get weights of
    standard deviation 0.5/√inputs, so the classifiers give spread but not degenerate probabilities
    (the libraries' initialisations give logits spanning hundreds for some models)."""
    import torch

    torch.manual_seed(seed)
    model = constructors()[name]()
    generator = torch.Generator().manual_seed(seed + 1)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    size = 224 if "googlenet" in name else 299
    with torch.no_grad():
        for linear in (m for m in model.modules() if isinstance(m, torch.nn.Linear)):
            linear.weight.normal_(0.0, 0.5 / linear.in_features**0.5, generator=generator)
            linear.bias.normal_(0.0, 0.1, generator=generator)
        for bn in norms:
            n = bn.num_features
            bn.bias.copy_(torch.randn(n, generator=generator) * 0.2)
            if gamma:
                bn.weight.copy_(torch.rand(n, generator=generator) + 0.5)
            bn.reset_running_stats()
            bn.momentum = None  # a cumulative average: after one batch, that batch's statistics
        model.train()
        model(torch.rand(4, 3, size, size, generator=generator) * 2 - 1)
        for bn in norms:
            n = bn.num_features
            bn.running_mean.add_(torch.randn(n, generator=generator) * 0.1 * bn.running_var.sqrt())
            bn.running_var.mul_(torch.rand(n, generator=generator) * 0.5 + 1.0)
            bn.momentum = 0.1
    return model.eval()


#: The main classifier (nn.Linear) of each reference: its input is saved as ``features``.
CLASSIFIERS = {
    "timm_inception_v4": "last_linear",
    "timm_inception_resnet_v2": "classif",
    "timm_inception_v3": "fc",
    "torchvision_inception_v3": "fc",
    "torchvision_googlenet": "fc",
}
#: Auxiliary heads computed beside the main output: spec head → (module it reads, the head module).
AUX_TAPS: dict[str, dict[str, tuple[str, str]]] = {
    "torchvision_googlenet": {"aux1": ("inception4a", "aux1"), "aux2": ("inception4d", "aux2")},
    "torchvision_inception_v3": {"aux": ("Mixed_6e", "AuxLogits")},
}


def write_reference(name: str, out: str, batch: int = 2, seed: int = 0) -> None:
    """Save the reference's state dict (.safetensors and .pth) and its log-probabilities on random
    input (``NAME.npz``: ``x`` channels-last in [-1, 1], one array per head, ``features``, the
    main classifier's input, and ``HEAD_f64``, each head's logits computed in float64) into ``out``.

    Run in a process of its own (``python tests/torch_references.py NAME OUT``): importing
    torchvision or timm after TensorFlow crashes the process (both load triton)."""
    from pathlib import Path

    import numpy as np
    import torch
    from safetensors.torch import save_file

    spec = REFERENCES[name][1]
    model = reference_model(name, seed, gamma=spec not in ("inception_v4", "inception_resnet_v2"))
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    folder = Path(out)
    save_file(state, str(folder / f"{name}.safetensors"))
    torch.save(state, folder / f"{name}.pth")
    size = 224 if "googlenet" in name else 299
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, (batch, size, size, 3)).astype("float32")
    taps: dict[str, Any] = {}
    getattr(model, CLASSIFIERS[name]).register_forward_hook(lambda m, i, o: taps.__setitem__("features", i[0]))
    for head, (module, _) in AUX_TAPS.get(name, {}).items():
        getattr(model, module).register_forward_hook(lambda m, i, o, head=head: taps.__setitem__(head, o))
    with torch.no_grad():
        heads = {"main": model(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()))}
        for head, (_, aux) in AUX_TAPS.get(name, {}).items():
            heads[head] = getattr(model, aux)(taps[head])  # eval mode: dropout off, as in Keras' inference
    logp = {head: torch.log_softmax(v.double(), -1).numpy() for head, v in heads.items()}
    features = taps["features"].numpy()
    model.double()
    with torch.no_grad():
        exact = {"main_f64": model(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).double()).numpy()}
        for head, (_, aux) in AUX_TAPS.get(name, {}).items():
            exact[f"{head}_f64"] = getattr(model, aux)(taps[head]).numpy()
    np.savez(folder / f"{name}.npz", x=x, features=features, **logp, **exact)


if __name__ == "__main__":
    import sys

    write_reference(sys.argv[1], sys.argv[2])
