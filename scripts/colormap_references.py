"""Writes test/fixtures/colormaps.json: matplotlib's colormaps sampled at t = i/256 (257 entries, the
table size of src/render/colormaps.ts), as 0-255 RGB rounded to nearest, for test/render.api.test.ts.

Run with Debian's python3 and python3-matplotlib (3.6):  /usr/bin/python3 scripts/colormap_references.py
"""
import json
import pathlib

import matplotlib
import numpy as np

# Backlight's name -> matplotlib's name ('rdbu' is reversed: blue for negative values).
NAMES = {
    'rdbu': 'RdBu_r', 'bwr': 'bwr', 'seismic': 'seismic', 'coolwarm': 'coolwarm', 'viridis': 'viridis',
    'inferno': 'inferno', 'magma': 'magma', 'plasma': 'plasma', 'hot': 'hot', 'gray': 'gray',
}
N = 257

out = {'matplotlib': matplotlib.__version__, 'size': N, 'maps': {}}
for name, mpl in NAMES.items():
    cmap = matplotlib.colormaps[mpl]
    if isinstance(cmap, matplotlib.colors.LinearSegmentedColormap):
        # Evaluated exactly at i/(N-1) from the segment data.
        rgba = cmap.resampled(N)(np.arange(N))
    else:
        # A listed map of 256 colours: the colour matplotlib shows at t (its nearest-entry lookup).
        rgba = cmap(np.linspace(0, 1, N))
    out['maps'][name] = np.round(rgba[:, :3] * 255).astype(int).tolist()

path = pathlib.Path(__file__).resolve().parent.parent / 'test' / 'fixtures' / 'colormaps.json'
path.write_text(json.dumps(out, separators=(',', ':')) + '\n')
print(f'wrote {path}')
