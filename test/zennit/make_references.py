"""Writes Zennit reference attributions for test/lrp.zennit.test.ts.

Usage: PYTHONPATH=<zennit 0.5.1>/src /usr/bin/python3 test/zennit/make_references.py MODEL.onnx IMAGES_DIR OUT_DIR

The ONNX graph is run by torch modules (Conv2d, Linear, ReLU, AdaptiveAvgPool2d, zennit.layer.Sum for
residual additions; BatchNorm merged into the preceding conv in float64, as Backlight's
canonicalization does), so that Zennit's composites hook every layer. Everything runs in float64.
For two CIFAR images and two targets each it writes the input, and the EpsilonGammaBox (generalized
gamma rule, gamma = 0.25; ZBox first layer; epsilon on dense), EpsilonPlusFlat and EpsilonAlpha2Beta1
attributions, seeded with one-hot(target) (value 1).
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from PIL import Image
from zennit.composites import EpsilonAlpha2Beta1, EpsilonGammaBox, EpsilonPlusFlat
from zennit.layer import Sum

MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


class OnnxModule(torch.nn.Module):
    """Runs the ops of the shared CIFAR ResNets with hookable torch modules."""

    def __init__(self, path):
        super().__init__()
        m = onnx.load(path)
        self.init = {t.name: torch.from_numpy(numpy_helper.to_array(t).astype(np.float64) if numpy_helper.to_array(t).dtype.kind == 'f' else numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
        self.nodes = list(m.graph.node)
        self.input_name = m.graph.input[0].name
        self.output_name = m.graph.output[0].name
        self.mods = torch.nn.ModuleDict()
        producers = {o: n for n in self.nodes for o in n.output}
        self.merged = set()
        for n in self.nodes:
            key = n.name.replace('.', '_')
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            if n.op_type == 'Conv':
                w = self.init[n.input[1]]
                b = self.init[n.input[2]] if len(n.input) > 2 else torch.zeros(w.shape[0], dtype=torch.float64)
                pads = attrs.get('pads', [0, 0, 0, 0])
                conv = torch.nn.Conv2d(w.shape[1] * attrs.get('group', 1), w.shape[0], w.shape[2:], stride=attrs.get('strides', [1, 1]), padding=pads[:2], groups=attrs.get('group', 1), bias=True).double()
                # Merge a BatchNormalization that reads this conv's output.
                readers = [r for r in self.nodes if n.output[0] in r.input]
                if len(readers) == 1 and readers[0].op_type == 'BatchNormalization':
                    bn = readers[0]
                    g, beta, mu, var = (self.init[i] for i in bn.input[1:5])
                    eps = next((onnx.helper.get_attribute_value(a) for a in bn.attribute if a.name == 'epsilon'), 1e-5)
                    s = g / torch.sqrt(var + eps)
                    w = w * s[:, None, None, None]
                    b = (b - mu) * s + beta
                    self.merged.add(bn.name)
                with torch.no_grad():
                    conv.weight.copy_(w)
                    conv.bias.copy_(b)
                self.mods[key] = conv
            elif n.op_type == 'Gemm':
                w = self.init[n.input[1]]
                if not attrs.get('transB', 0):
                    w = w.t()
                lin = torch.nn.Linear(w.shape[1], w.shape[0]).double()
                with torch.no_grad():
                    lin.weight.copy_(w)
                    lin.bias.copy_(self.init[n.input[2]])
                self.mods[key] = lin
            elif n.op_type == 'Relu':
                self.mods[key] = torch.nn.ReLU()
            elif n.op_type == 'Add':
                self.mods[key] = Sum()
            elif n.op_type == 'GlobalAveragePool':
                self.mods[key] = torch.nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        env = {self.input_name: x}
        val = lambda name: env[name] if name in env else self.init[name]
        for n in self.nodes:
            key = n.name.replace('.', '_')
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            op = n.op_type
            if op == 'BatchNormalization' and n.name in self.merged:
                y = val(n.input[0])
            elif op in ('Conv', 'Gemm', 'Relu', 'GlobalAveragePool'):
                y = self.mods[key](val(n.input[0]))
            elif op == 'Add':
                y = self.mods[key](torch.stack([val(n.input[0]), val(n.input[1])], dim=-1))
            elif op == 'Flatten':
                y = torch.flatten(val(n.input[0]), attrs.get('axis', 1))
            elif op == 'Slice':
                x0 = val(n.input[0])
                starts, ends = [int(v) for v in val(n.input[1])], [int(v) for v in val(n.input[2])]
                axes = [int(v) for v in val(n.input[3])] if len(n.input) > 3 else list(range(len(starts)))
                steps = [int(v) for v in val(n.input[4])] if len(n.input) > 4 else [1] * len(starts)
                idx = [slice(None)] * x0.dim()
                for s, e, a, st in zip(starts, ends, axes, steps):
                    idx[a] = slice(s, min(e, x0.shape[a]), st)
                y = x0[tuple(idx)]
            elif op == 'Pad':
                x0 = val(n.input[0])
                pads = [int(v) for v in val(n.input[1])]
                r = x0.dim()
                torch_pads = []
                for a in reversed(range(r)):
                    torch_pads += [pads[a], pads[a + r]]
                y = torch.nn.functional.pad(x0, torch_pads)
            else:
                raise ValueError(f'unsupported op {op}')
            env[n.output[0]] = y
        return env[self.output_name]


def main():
    model_path, images, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    model = OnnxModule(model_path).eval()
    low = torch.tensor((0 - MEAN) / STD).view(1, 3, 1, 1)
    high = torch.tensor((1 - MEAN) / STD).view(1, 3, 1, 1)
    composites = {
        'epsilon_gamma_box': lambda: EpsilonGammaBox(low=low.expand(1, 3, 32, 32), high=high.expand(1, 3, 32, 32)),
        'epsilon_plus_flat': lambda: EpsilonPlusFlat(),
        'epsilon_alpha2_beta1': lambda: EpsilonAlpha2Beta1(),
    }
    files = sorted(f for f in os.listdir(images) if f.endswith('.png'))[:: 250][:2]
    manifest = []
    for i, f in enumerate(files):
        pixels = np.asarray(Image.open(os.path.join(images, f)).convert('RGB'), dtype=np.float64) / 255.0
        x = torch.tensor(((pixels - MEAN) / STD).transpose(2, 0, 1)[None].copy())
        np.save(os.path.join(out, f'in{i}_input.npy'), x.numpy().astype(np.float32))
        with torch.no_grad():
            logits = model(x)[0]
        order = logits.argsort(descending=True)
        for target in [int(order[0]), int(order[1])]:
            for name, make in composites.items():
                xr = x.clone().requires_grad_(True)
                with make().context(model) as modified:
                    y = modified(xr)
                    seed = torch.zeros_like(y)
                    seed[0, target] = 1.0
                    (grad,) = torch.autograd.grad(y, xr, seed)
                file = f'in{i}_t{target}_{name}.npy'
                np.save(os.path.join(out, file), grad.numpy().astype(np.float32))
                manifest.append({'file': file, 'input': f'in{i}_input.npy', 'image': f, 'target': target, 'composite': name,
                                 'sum': float(grad.sum()), 'maxabs': float(grad.abs().max())})
    with open(os.path.join(out, 'manifest.json'), 'w') as fh:
        json.dump({'generator': 'test/zennit/make_references.py with Zennit 0.5.1 (float64)', 'model': os.path.basename(model_path),
                   'box': {'low': ((0 - MEAN) / STD).tolist(), 'high': ((1 - MEAN) / STD).tolist()}, 'files': manifest}, fh, indent=1)


if __name__ == '__main__':
    main()
