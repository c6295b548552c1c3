"""Exports torchvision classifiers as users do (torch.onnx.export, seeded random weights) and writes
float64 autograd references for the tests in test/torchvision.test.ts.

Usage: /usr/bin/python3 test/torchvision/export_models.py OUT_DIR [MODEL ...]

For each model and export variant it writes OUT_DIR/<name>.onnx and OUT_DIR/<name>.json holding
the input (float32, as exported), torch's float64 logits, the explained class, and the float64
input gradients of the gradient, Guided Backprop and DeconvNet (every rectifier gated, whether
it is an nn.ReLU module or a functional call). Needs Debian's python3-torch, python3-torchvision
and python3-onnx.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F
import torchvision.models as tvm
from torchvision.models import swin_transformer, vision_transformer

# name -> (constructor, input size); widths are the published ones unless the constructor allows a
# smaller configuration of the same architecture (transformers), to keep the suite fast.
MODELS = {
    'alexnet': (lambda: tvm.alexnet(num_classes=10), 224),
    'vgg11': (lambda: tvm.vgg11(num_classes=10), 224),
    'vgg11_bn': (lambda: tvm.vgg11_bn(num_classes=10), 224),
    'resnet18': (lambda: tvm.resnet18(num_classes=10), 64),
    'resnext50_32x4d': (lambda: tvm.resnext50_32x4d(num_classes=10), 64),
    'wide_resnet50_2': (lambda: tvm.wide_resnet50_2(num_classes=10), 32),
    'densenet121': (lambda: tvm.densenet121(num_classes=10), 64),
    'squeezenet1_1': (lambda: tvm.squeezenet1_1(num_classes=10), 64),
    'googlenet': (lambda: tvm.googlenet(num_classes=10, aux_logits=False, init_weights=True), 64),
    'inception_v3': (lambda: tvm.inception_v3(num_classes=10, aux_logits=False, init_weights=True), 96),
    'shufflenet_v2_x0_5': (lambda: tvm.shufflenet_v2_x0_5(num_classes=10), 64),
    'mobilenet_v2': (lambda: tvm.mobilenet_v2(num_classes=10), 64),
    'mobilenet_v3_small': (lambda: tvm.mobilenet_v3_small(num_classes=10), 64),
    'mnasnet0_5': (lambda: tvm.mnasnet0_5(num_classes=10), 64),
    'efficientnet_b0': (lambda: tvm.efficientnet_b0(num_classes=10), 64),
    'efficientnet_v2_s': (lambda: tvm.efficientnet_v2_s(num_classes=10), 64),
    'regnet_x_400mf': (lambda: tvm.regnet_x_400mf(num_classes=10), 64),
    'regnet_y_400mf': (lambda: tvm.regnet_y_400mf(num_classes=10), 64),
    'convnext_tiny': (lambda: tvm.convnext_tiny(num_classes=10), 64),
    'vit': (lambda: vision_transformer.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10), 32),
    'swin': (lambda: swin_transformer.SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 2], window_size=[4, 4], num_classes=10), 32),
}

class EinsumAttention(torch.nn.Module):
    """A small conv + attention classifier written with torch.einsum, as research code often is."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 16, 4, stride=4)
        self.qkv = torch.nn.Linear(16, 48)
        self.head = torch.nn.Linear(16, 10)

    def forward(self, x):
        t = self.stem(x).flatten(2).transpose(1, 2)  # [N, T, 16]
        q, k, v = self.qkv(t).chunk(3, dim=-1)
        a = torch.einsum('ntd,nsd->nts', q, k).softmax(-1)
        y = torch.einsum('nts,nsd->ntd', a, v) + t
        w = torch.einsum('ntd,de->nte', torch.relu(y), self.head.weight.t())
        return w.mean(1) + self.head.bias


MODELS['einsum_attention'] = (EinsumAttention, 32)

RECTIFIERS = {'relu': F.relu, 'relu6': F.relu6, 'hardtanh': F.hardtanh}


class Gate(torch.autograd.Function):
    """A rectifier y = f(x) whose backward is the method's (Nie et al. Eq. 1-2)."""

    @staticmethod
    def forward(ctx, x, lo, hi, method):
        mask = (x > lo) if hi is None else ((x > lo) & (x < hi))
        ctx.save_for_backward(mask)
        ctx.method = method
        y = x.clamp(min=lo) if hi is None else x.clamp(min=lo, max=hi)
        return y

    @staticmethod
    def backward(ctx, r):
        (mask,) = ctx.saved_tensors
        if ctx.method == 'gradient':
            return r * mask, None, None, None
        if ctx.method == 'deconvnet':
            return r.clamp(min=0), None, None, None
        return r.clamp(min=0) * mask, None, None, None


def gated(method):
    """Patches every rectifier (modules and functional calls) to backpropagate by `method`."""
    def relu(x, inplace=False):
        return Gate.apply(x, 0.0, None, method)

    def relu6(x, inplace=False):
        return Gate.apply(x, 0.0, 6.0, method)

    def hardtanh(x, min_val=-1.0, max_val=1.0, inplace=False):
        if min_val != 0.0:
            return RECTIFIERS['hardtanh'](x, min_val, max_val)
        return Gate.apply(x, 0.0, max_val, method)

    F.relu, F.relu6, F.hardtanh = relu, relu6, hardtanh
    torch.relu = relu


def ungated():
    F.relu, F.relu6, F.hardtanh = RECTIFIERS['relu'], RECTIFIERS['relu6'], RECTIFIERS['hardtanh']
    torch.relu = torch._C._VariableFunctions.relu


def seeded(name):
    torch.manual_seed(0)
    model = MODELS[name][0]()
    # Non-trivial BatchNorm statistics, so that folding them is tested.
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    # Zero-initialized weights (ViT's head and class token) would make every map zero.
    for p in model.parameters():
        if p.dim() > 1 and not p.detach().abs().sum():
            p.data.normal_(0, 0.2, generator=g)
    return model.eval()


def input_gradient(model, x, target, method):
    gated(method)
    try:
        xd = x.detach().clone().to(next(model.parameters()).dtype).requires_grad_(True)
        logits = model(xd)
        logits[0, target].backward()
        return xd.grad[0].flatten().double().tolist()
    finally:
        ungated()


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or list(MODELS)
    os.makedirs(out, exist_ok=True)
    for name in names:
        try:
            export(name, out)
            print(name, 'ok', flush=True)
        except Exception as e:  # report and go on with the other models
            print(name, 'FAILED', type(e).__name__, str(e).splitlines()[0][:300], flush=True)


def export(name, out):
    if True:
        model = seeded(name)
        size = MODELS[name][1]
        x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(2))
        # AlexNet and VGG need 224 px (their adaptive pools divide the feature map): one variant
        # keeps the files small.
        variants = [('op17', 17, False)] if size >= 224 else [('op13', 13, False), ('op17', 17, False), ('op17dyn', 17, True)]
        for tag, opset, dynamic in variants:
            path = os.path.join(out, f'{name}-{tag}.onnx')
            # With gradients enabled: torch's fused attention fast path (no ONNX export) stays off.
            if True:
                torch.onnx.export(
                    model, x, path, opset_version=opset, input_names=['input'], output_names=['logits'],
                    dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}} if dynamic else None,
                )
        model64 = seeded(name).double()
        with torch.no_grad():
            logits = model64(x.double())[0]
        target = int(logits.argmax())
        ref = {
            'model': name, 'input': x.flatten().tolist(), 'dims': list(x.shape), 'logits': logits.tolist(), 'target': target,
            'gradient': input_gradient(model64, x, target, 'gradient'),
            'guided-backprop': input_gradient(model64, x, target, 'guided'),
            'deconvnet': input_gradient(model64, x, target, 'deconvnet'),
        }
        # torch's own float32 gradient: how far float32 rounding alone moves it (ReLU and max-pool near-ties).
        ref['torch-float32-gradient'] = input_gradient(seeded(name), x, target, 'gradient')
        with open(os.path.join(out, f'{name}.json'), 'w') as f:
            json.dump(ref, f)


if __name__ == '__main__':
    main()
