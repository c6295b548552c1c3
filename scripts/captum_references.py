"""Writes test/fixtures/captum-normalize.json: Captum's visualize_image_attr normalization for each
sign, for test/render.api.test.ts (`heatmap(…, { sign, outliers: 2 })`).

Captum is not installed here (no PyPI access): `normalize_attr` below transcribes
captum/attr/_utils/visualization.py (0.6–0.7: `_cumulative_sum_threshold`, `_normalize_attr`,
`_normalize_scale`) in NumPy, and the colormap position is what `visualize_image_attr(method=
'heat_map')` passes to matplotlib: vmin, vmax = -1, 1 for sign 'all', else 0, 1.

Run with Debian's python3:  /usr/bin/python3 scripts/captum_references.py
"""
import json
import pathlib

import numpy as np


def cumulative_sum_threshold(values, percentile):
    sorted_vals = np.sort(values.flatten())
    cum_sums = np.cumsum(sorted_vals)
    threshold_id = np.where(cum_sums >= cum_sums[-1] * 0.01 * percentile)[0][0]
    return sorted_vals[threshold_id]


def normalize_attr(attr, sign, outlier_perc=2, reduction_axis=2):
    attr_combined = np.sum(attr, axis=reduction_axis)
    if sign == 'all':
        threshold = cumulative_sum_threshold(np.abs(attr_combined), 100 - outlier_perc)
    elif sign == 'positive':
        attr_combined = (attr_combined > 0) * attr_combined
        threshold = cumulative_sum_threshold(attr_combined, 100 - outlier_perc)
    elif sign == 'negative':
        attr_combined = (attr_combined < 0) * attr_combined
        threshold = -1 * cumulative_sum_threshold(np.abs(attr_combined), 100 - outlier_perc)
    else:  # absolute_value
        attr_combined = np.abs(attr_combined)
        threshold = cumulative_sum_threshold(attr_combined, 100 - outlier_perc)
    return np.clip(attr_combined / threshold, -1, 1), threshold


rng = np.random.default_rng(0)
H, W = 10, 12
# An attribution with a few strong outliers, as saliency maps have.
attr = rng.normal(size=(H, W, 3)) * rng.uniform(0.2, 1.0, size=(H, W, 1))
attr[2, 3] *= 8
attr[7, 9] *= -6
out = {'shape': [3, H, W], 'attr_chw': np.transpose(attr, (2, 0, 1)).flatten().tolist(), 'signs': {}}
for sign in ['all', 'positive', 'negative', 'absolute_value']:
    norm, threshold = normalize_attr(attr, sign)
    pos = (norm + 1) / 2 if sign == 'all' else norm
    out['signs'][sign] = {'threshold': float(threshold), 'position': pos.flatten().tolist()}

path = pathlib.Path(__file__).resolve().parent.parent / 'test' / 'fixtures' / 'captum-normalize.json'
path.write_text(json.dumps(out) + '\n')
print(f'wrote {path}')
