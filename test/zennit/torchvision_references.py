"""Zennit 0.5.1 references for torchvision models of test/torchvision.test.ts.

Usage: PYTHONPATH=<zennit 0.5.1>/src /usr/bin/python3 test/zennit/torchvision_references.py OUT_DIR [MODEL ...]

Builds each model exactly as test/torchvision/export_models.py does (same seeds, same input and
target), applies Zennit's composites with its torchvision canonizers (BatchNorm merged; residual
sums through zennit.layer.Sum with the Norm rule) in float64, seeded with one-hot(target) = 1, and
writes OUT_DIR/<model>_<composite>.npy (float32) with a manifest.
"""
import json
import os
import sys

import numpy as np
import torch
from zennit.composites import EpsilonAlpha2Beta1, EpsilonGammaBox, EpsilonPlusFlat
from zennit.torchvision import ResNetCanonizer, VGGCanonizer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'torchvision'))
import export_models as em  # noqa: E402

CANONIZERS = {'resnet18': ResNetCanonizer, 'vgg11_bn': VGGCanonizer}


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or list(CANONIZERS)
    os.makedirs(out, exist_ok=True)
    manifest = []
    for name in names:
        size = em.MODELS[name][1]
        x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(2)).double()
        model = em.seeded(name).double()
        with torch.no_grad():
            target = int(model(x)[0].argmax())
        composites = {
            'epsilon_gamma_box': lambda: EpsilonGammaBox(low=torch.full_like(x, -3.0), high=torch.full_like(x, 3.0), canonizers=[CANONIZERS[name]()]),
            'epsilon_plus_flat': lambda: EpsilonPlusFlat(canonizers=[CANONIZERS[name]()]),
            'epsilon_alpha2_beta1': lambda: EpsilonAlpha2Beta1(canonizers=[CANONIZERS[name]()]),
        }
        for composite, make in composites.items():
            xr = x.clone().requires_grad_(True)
            with make().context(model) as modified:
                y = modified(xr)
                seed = torch.zeros_like(y)
                seed[0, target] = 1.0
                (grad,) = torch.autograd.grad(y, xr, seed)
            file = f'{name}_{composite}.npy'
            np.save(os.path.join(out, file), grad[0].numpy().astype(np.float32))
            manifest.append({'model': name, 'composite': composite, 'file': file, 'target': target, 'sum': float(grad.sum())})
            print(name, composite, 'sum', float(grad.sum()), flush=True)
    with open(os.path.join(out, 'manifest.json'), 'w') as fh:
        json.dump({'generator': 'test/zennit/torchvision_references.py with Zennit 0.5.1 (float64)', 'box': {'low': -3, 'high': 3}, 'files': manifest}, fh, indent=1)


if __name__ == '__main__':
    main()
