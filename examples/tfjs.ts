/**
 * A TF.js layers model as it is served (model.json + weight shards beside it): loads it, prints
 * the top-3 classes of a photo (preset imagenet-tf: x/127.5 − 1, NHWC as the model's input) and
 * explains the best one with the gradient and LRP.
 *
 *   npx tsx examples/tfjs.ts [photo] [model.json]   (default: ../shared's coffee.png and TF.js MobileNet v1 0.25)
 */
import { fileURLToPath } from 'node:url';
import { Explainer, loadImage, preprocess, presets, topK } from '../src/index.js';

const shared = (p: string): string => fileURLToPath(new URL(`../../shared/${p}`, import.meta.url));
const photo = process.argv[2] ?? shared('images/coffee.png');
const modelPath = process.argv[3] ?? shared('models/mobilenet-v1-0.25-imagenet-tfjs/mobilenet_model.json');

const ex = await Explainer.load(modelPath); // the shards are read from the json's folder
const { tensor, plan } = preprocess(await loadImage(photo), { preset: 'imagenet-tf', modelShape: ex.inputShape });
const r = await ex.explain(tensor, { method: 'gradient', target: 'max' });
const lrp = await ex.explain(tensor, { method: 'lrp', target: 'max', params: { box: plan.box } });

console.log('input', JSON.stringify(ex.inputShape)); // ["N",224,224,3]: NHWC, as the TF.js model takes it
for (const p of topK(r.logits, 3, presets['imagenet-tf'].classes)) console.log(`${p.index} ${p.name} p=${p.probability.toFixed(3)}`);
console.log('gradient', JSON.stringify(r.attribution.dims), 'lrp map', JSON.stringify(lrp.maps.sum!.dims));
