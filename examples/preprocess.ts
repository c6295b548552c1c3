/**
 * Images in, predictions out: loads a photo, preprocesses it as torchvision does (Pillow's
 * bilinear resize of the shorter side to 256, centre crop 224, ImageNet mean/std), prints the
 * top-3 classes with their ImageNet names and explains the best one with LRP, whose zB rule takes
 * its pixel box from the preprocessing plan.
 *
 *   npx tsx examples/preprocess.ts [photo] [model.onnx]     (default: ../shared's chelsea.png and MobileNetV2)
 */
import { fileURLToPath } from 'node:url';
import { Explainer, loadImage, preprocess, presets, topK } from '../src/index.js';

const shared = (p: string): string => fileURLToPath(new URL(`../../shared/${p}`, import.meta.url));
const photo = process.argv[2] ?? shared('images/chelsea.png');
const modelPath = process.argv[3] ?? shared('models/mobilenetv2-imagenet.onnx');

const ex = await Explainer.load(modelPath);
const image = await loadImage(photo); // RGBA at the photo's own size
const { tensor, plan } = preprocess(image, { preset: 'imagenet', crop: true, modelShape: ex.inputShape });
const r = await ex.explain(tensor, { method: 'lrp', target: 'max', params: { composite: 'gu2018', box: plan.box } });

console.log(`image ${image.width}×${image.height} → resized ${plan.resized.width}×${plan.resized.height}, crop at (${plan.crop.left}, ${plan.crop.top})`);
for (const p of topK(r.logits, 3, presets.imagenet.classes)) console.log(`${p.index} ${p.name} p=${p.probability.toFixed(3)}`);
console.log('lrp map', JSON.stringify(r.maps.sum!.dims));
