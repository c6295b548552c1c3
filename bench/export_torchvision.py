"""Exports the published torchvision classifiers the benchmark times (1000 classes, 224×224, seeded
random weights: timing does not depend on them) to ONNX at opset 17, as users export them.

    /usr/bin/python3 bench/export_torchvision.py <efficientnet_b0|convnext_tiny|vit_b_16> OUT.onnx
"""
import sys

import torch
import torchvision.models as tvm

MODELS = {'efficientnet_b0': tvm.efficientnet_b0, 'convnext_tiny': tvm.convnext_tiny, 'vit_b_16': tvm.vit_b_16}


def build(name):
    torch.manual_seed(0)
    model = MODELS[name]().eval()
    # ViT's head is zero-initialized: random weights, so that the logits differ.
    for p in model.parameters():
        if p.dim() > 1 and not p.detach().abs().sum():
            p.data.normal_(0, 0.02)
    return model


def main():
    name, out = sys.argv[1], sys.argv[2]
    model = build(name)
    x = torch.randn(1, 3, 224, 224)
    # With gradients enabled: torch's fused attention fast path (no ONNX export) stays off.
    torch.onnx.export(model, x, out, opset_version=17, input_names=['input'], output_names=['logits'])


if __name__ == '__main__':
    main()
