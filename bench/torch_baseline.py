"""PyTorch autograd baseline for `npm run bench` (Debian's python3-torch; optional).

    python3 bench/torch_baseline.py <vgg16|mobilenetv2|resnet20|efficientnet_b0|convnext_tiny|vit_b_16> [runs]

Prints one JSON line: forward time and forward+backward (input gradient of the top logit) time,
medians after warm-up, 2 threads. VGG-16 is defined here (random weights: timing does not depend
on them); the ONNX models are run by a small interpreter of their ops written on torch.nn.functional.
"""
import json
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write("python3-torch is not installed (apt-get install python3-torch)\n")
    sys.exit(3)

torch.set_num_threads(2)
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "models")


def vgg16():
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(torch.nn.MaxPool2d(2, 2))
        else:
            layers += [torch.nn.Conv2d(c, v, 3, padding=1), torch.nn.ReLU()]
            c = v
    layers += [torch.nn.Flatten(), torch.nn.Linear(512 * 7 * 7, 4096), torch.nn.ReLU(),
               torch.nn.Linear(4096, 4096), torch.nn.ReLU(), torch.nn.Linear(4096, 1000)]
    return torch.nn.Sequential(*layers).eval(), (1, 3, 224, 224)


def onnx_model(path, shape):
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        sys.stderr.write("python3-onnx is not installed (apt-get install python3-onnx): it reads the shared ONNX models\n")
        sys.exit(3)

    m = onnx.load(path)
    init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
    attrs = lambda n: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}

    def run(x):
        env = dict(init)
        env[m.graph.input[0].name] = x
        for n in m.graph.node:
            a, i = attrs(n), [env.get(name) for name in n.input]
            if n.op_type == "Conv":
                p = a.get("pads", [0, 0, 0, 0])
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]), (p[0], p[1]),
                             a.get("dilations", [1, 1]), a.get("group", 1))
            elif n.op_type == "Clip":
                y = torch.clamp(i[0], float(i[1]), float(i[2]))
            elif n.op_type == "Relu":
                y = F.relu(i[0])
            elif n.op_type == "Add":
                y = i[0] + i[1]
            elif n.op_type == "BatchNormalization":
                y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
            elif n.op_type == "GlobalAveragePool":
                y = i[0].mean((2, 3), keepdim=True)
            elif n.op_type == "Flatten":
                y = i[0].flatten(1)
            elif n.op_type == "Gemm":
                y = F.linear(i[0], i[1] if a.get("transB", 0) else i[1].t(), i[2])
            elif n.op_type == "Slice":
                starts, ends, axes, steps = (i[k].tolist() for k in (1, 2, 3, 4))
                sl = [slice(None)] * i[0].dim()
                for s, e, ax, st in zip(starts, ends, axes, steps):
                    sl[ax] = slice(s, min(e, i[0].shape[ax]), st)
                y = i[0][tuple(sl)]
            elif n.op_type == "Pad":
                p = i[1].tolist()
                r = len(p) // 2
                y = F.pad(i[0], [v for ax in reversed(range(r)) for v in (p[ax], p[ax + r])])
            else:
                raise SystemExit(f"torch baseline: op {n.op_type} not interpreted")
            env[n.output[0]] = y
        return env[m.graph.output[0].name]

    return run, shape


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "vgg16"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    if name == "vgg16":
        model, shape = vgg16()
    elif name == "mobilenetv2":
        model, shape = onnx_model(os.path.join(SHARED, "mobilenetv2-imagenet.onnx"), (1, 3, 224, 224))
    elif name in ("efficientnet_b0", "convnext_tiny", "vit_b_16"):
        sys.path.insert(0, HERE)
        from export_torchvision import build
        model, shape = build(name), (1, 3, 224, 224)
    elif name == "resnet20":
        model, shape = onnx_model(os.path.join(SHARED, "resnet20-cifar10.onnx"), (1, 3, 32, 32))
    else:
        raise SystemExit(f"unknown model {name}")
    x = torch.randn(*shape)

    def forward():
        with torch.no_grad():
            model(x)

    def gradient():
        xi = x.clone().requires_grad_(True)
        out = model(xi)
        (g,) = torch.autograd.grad(out[0, out[0].argmax()], xi)
        return g

    def timed(f):
        for _ in range(2):
            f()
        ts = []
        for _ in range(runs):
            t0 = time.perf_counter()
            f()
            ts.append((time.perf_counter() - t0) * 1000)
        return statistics.median(ts)

    fwd, grad = timed(forward), timed(gradient)
    print(json.dumps({"forwardMs": fwd, "gradientMs": grad, "ratio": grad / fwd, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
