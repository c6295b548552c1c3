"""Pillow and torchvision references for test/resize.test.ts (Debian's python3-pil and
python3-torchvision: /usr/bin/python3).

    pil_reference.py cases DIR        DIR/cases.json lists raw 8-bit inputs; writes DIR/<id>.out
    pil_reference.py fixture SHARED   prints the sha256 of Pillow's/torchvision's results on the
                                      shared photos (test/fixtures/pil-resize.json)

A case: {"id", "file", "width", "height", "channels" (1, 3 or 4), and either "size": [w, h]
(Image.resize(size, BILINEAR)) or "shorter" + "crop": [w, h] (transforms.Resize(shorter) +
transforms.CenterCrop((h, w)))}. RGBA is resized as mode "RGBX"-like channels: Pillow would
premultiply an "RGBA" image, so 4-channel cases are split into RGB + L and merged back.
"""
import hashlib
import json
import pathlib
import sys

import numpy as np
from PIL import Image

MODES = {1: "L", 3: "RGB"}


def resize(im, case):
    if "size" in case:
        return im.resize(tuple(case["size"]), Image.BILINEAR)
    import torchvision.transforms as T

    w, h = case["crop"]
    return T.Compose([T.Resize(case["shorter"]), T.CenterCrop((h, w))])(im)


def run_cases(folder):
    folder = pathlib.Path(folder)
    for case in json.loads((folder / "cases.json").read_text()):
        c = case["channels"]
        raw = np.fromfile(folder / case["file"], dtype=np.uint8).reshape(case["height"], case["width"], c)
        if c == 4:  # channels are independent in Pillow's resampling; avoid RGBA premultiplication
            rgb = np.asarray(resize(Image.fromarray(raw[:, :, :3], "RGB"), case))
            a = np.asarray(resize(Image.fromarray(raw[:, :, 3], "L"), case))
            out = np.dstack([rgb, a])
        else:
            im = Image.fromarray(raw[:, :, 0] if c == 1 else raw, MODES[c])
            out = np.asarray(resize(im, case))
        np.ascontiguousarray(out, dtype=np.uint8).tofile(folder / f"{case['id']}.out")


def fixture(shared):
    import torchvision.transforms as T

    shared = pathlib.Path(shared)
    sha = lambda im: hashlib.sha256(np.ascontiguousarray(np.asarray(im), dtype=np.uint8).tobytes()).hexdigest()
    photos = {}
    for name in ["astronaut.png", "chelsea.png", "coffee.png", "grace_hopper.jpg", "rocket.jpg"]:
        im = Image.open(shared / "images" / name).convert("RGB")
        photos[name] = {
            "resize224": sha(im.resize((224, 224), Image.BILINEAR)),
            "resize32": sha(im.resize((32, 32), Image.BILINEAR)),
            "resize256crop224": sha(T.Compose([T.Resize(256), T.CenterCrop(224)])(im)),
        }
    val = sorted((shared / "data" / "imagenet-val-1300").glob("*.JPEG"))[:20]
    imagenet = {p.name: sha(Image.open(p).convert("RGB").resize((224, 224), Image.BILINEAR)) for p in val}
    import PIL, torchvision

    print(json.dumps({"pillow": PIL.__version__, "torchvision": torchvision.__version__, "photos": photos, "imagenet227to224": imagenet}, indent=1))


if __name__ == "__main__":
    {"cases": run_cases, "fixture": fixture}[sys.argv[1]](sys.argv[2])
