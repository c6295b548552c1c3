"""Writes src/onnx/attributeNames.ts: the attribute names of every default-domain ONNX op, over all
of its versions, from the onnx package's schemas (run with Debian's /usr/bin/python3; onnx 1.12
knows opsets up to 17, so the names that opsets 18-22 added are listed in LATER below)."""
import json
import onnx.defs

LATER = {
    'AveragePool': ['dilations'],
    'Cast': ['saturate'], 'CastLike': ['saturate'],
    'QuantizeLinear': ['saturate', 'block_size', 'output_dtype'], 'DequantizeLinear': ['block_size'],
    'Resize': ['antialias', 'axes', 'keep_aspect_ratio_policy'],
    'Split': ['num_outputs'],
    'LpPool': ['ceil_mode', 'dilations'],
    'Gelu': ['approximate'],
    'GroupNormalization': ['epsilon', 'num_groups', 'stash_type'],
    'Mish': [], 'CenterCropPad': ['axes'], 'Col2Im': ['dilations', 'pads', 'strides'], 'AffineGrid': ['align_corners'],
    **{op: ['noop_with_empty_axes'] for op in ['ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare']},
}

names = {}
for s in onnx.defs.get_all_schemas_with_history():
    if s.domain not in ('', 'ai.onnx'):
        continue
    names.setdefault(s.name, set()).update(s.attributes.keys())
for op, extra in LATER.items():
    names.setdefault(op, set()).update(extra)

lines = [
    '/**',
    ' * Attribute names of every default-domain ONNX op, over all of its versions (opsets 1-22). Generated',
    ' * by scripts/onnx_attribute_names.py from the onnx package\'s schemas: do not edit by hand.',
    ' * onnxruntime refuses a node with an attribute its op does not define; so does validate.ts.',
    ' */',
    'export const ATTRIBUTE_NAMES: Readonly<Record<string, readonly string[]>> = {',
]
for op in sorted(names):
    lines.append(f'  {json.dumps(op)}: {json.dumps(sorted(names[op]))},'.replace('":', '":').replace('"', "'"))
lines.append('};')
open('src/onnx/attributeNames.ts', 'w').write('\n'.join(lines) + '\n')
print(len(names), 'ops')
