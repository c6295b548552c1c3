"""Writes test/fixtures/overlay-gridsample.json: a map upsampled onto an original photo through a
resize + crop plan by PyTorch's grid_sample (bilinear, align_corners=False, border padding), the
reference for src/render/pictures.ts `overlay` in test/render.api.test.ts.

Run with Debian's python3 (torch):  /usr/bin/python3 scripts/overlay_references.py
"""
import json
import pathlib

import torch
import torch.nn.functional as F

cases = []
g = torch.Generator().manual_seed(0)
# (photo w0 × h0, resized W × H, crop left, top, map mw × mh): a centre crop with a scale that is
# not an integer, a plain resize (window = everything) and a tall photo.
for w0, h0, W, H, left, top, mw, mh in [(37, 29, 46, 36, 9, 6, 28, 24), (23, 17, 7, 5, 0, 0, 7, 5), (19, 41, 16, 35, 2, 8, 12, 16)]:
    m = (torch.rand(mh, mw, generator=g) * 2 - 1) * 0.9
    xs = (torch.arange(w0, dtype=torch.float64) + 0.5) * W / w0 - left  # map pixels, 0 at the window's edge
    ys = (torch.arange(h0, dtype=torch.float64) + 0.5) * H / h0 - top
    inside = ((xs >= 0) & (xs < mw))[None, :] & ((ys >= 0) & (ys < mh))[:, None]
    # grid_sample's normalized coordinates (align_corners=False): -1 and 1 are the outer edges.
    gx = (2 * xs / mw - 1)[None, :].expand(h0, w0)
    gy = (2 * ys / mh - 1)[:, None].expand(h0, w0)
    grid = torch.stack([gx, gy], dim=-1)[None].to(torch.float64)
    up = F.grid_sample(m[None, None].to(torch.float64), grid, mode='bilinear', padding_mode='border', align_corners=False)[0, 0]
    values = torch.where(inside, up, torch.full_like(up, float('nan')))
    cases.append({
        'photo': [w0, h0], 'plan': {'width': W, 'height': H, 'left': left, 'top': top}, 'map': [mw, mh],
        'values': m.flatten().tolist(),
        'expected': [None if v != v else v for v in values.flatten().tolist()],
    })

path = pathlib.Path(__file__).resolve().parent.parent / 'test' / 'fixtures' / 'overlay-gridsample.json'
path.write_text(json.dumps({'torch': torch.__version__, 'cases': cases}) + '\n')
print(f'wrote {path}')
