/**
 * `backlight convert`: a TF.js layers model (model.json + weight shards) written as ONNX (opset 17),
 * as Backlight imports it, so it runs anywhere onnxruntime runs.
 *
 * ```sh
 * npx backlight convert model.json --out model.onnx [--input-layout nhwc|nchw]
 * ```
 */
import type { Command } from 'commander';
import { BacklightError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { encodeModel } from '../onnx/encode.js';
import { importTfjsFile, type InputLayout } from './convertModel.js';
import type { CliIO } from './errors.js';

interface ConvertOptions {
  out: string;
  inputLayout: string;
  quiet?: boolean;
}

export function registerConvert(program: Command, io: CliIO): void {
  program
    .command('convert')
    .description('Write a TF.js layers model (model.json with its weight shards beside it) as an ONNX model')
    .argument('<model.json>', 'the TF.js model.json; its weight shards are read from the same folder')
    .requiredOption('-o, --out <file.onnx>', 'the ONNX file to write')
    .option('--input-layout <layout>', "the ONNX input's layout: nhwc (the TF.js model's own) or nchw", 'nhwc')
    .option('-q, --quiet', 'print nothing on success')
    .addHelpText('after', '\nExample:\n  backlight convert mobilenet/model.json --out mobilenet.onnx\n')
    .action(async (model: string, opts: ConvertOptions) => {
      if (opts.inputLayout !== 'nhwc' && opts.inputLayout !== 'nchw') {
        throw new BacklightError(`--input-layout must be nhwc or nchw, got '${opts.inputLayout}'`, 'usage');
      }
      const graph = await importTfjsFile(model, opts.inputLayout as InputLayout);
      await writeFileAtomic(opts.out, encodeModel(graph, 'backlight convert'));
      const shape = (dims: readonly (number | string)[]): string => `[${dims.join(', ')}]`;
      if (!opts.quiet) {
        io.stdout(`${opts.out}: ${graph.nodes.length} nodes, input '${graph.inputs[0]!.name}' ${shape(graph.inputs[0]!.shape)}, output '${graph.outputs[0]!.name}' ${shape(graph.outputs[0]!.shape)}\n`);
      }
    });
}
