#!/usr/bin/env bash
# Regenerates the reports under docs/eval from ../shared: `npm run report` (all of them, about
# 45 minutes on 2 cores) or `npm run report -- sanity-resnet20 ablation-imagenet` (those named).
# Each folder is emptied first (the commands resume into an existing folder instead of recomputing),
# except its README.md: the text that reads the numbers, written by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
shared=../shared
if [ ! -d "$shared/models" ] || [ ! -d "$shared/data" ]; then
  echo "report: needs the fixtures in $shared (models/ and data/)" >&2
  exit 1
fi
npm run --silent build
bl() { node dist/cli/main.js "$@" --threads 2; }
imagenet=(--data "$shared/data/imagenet-val-1300" --preset imagenet)
cifar=(--data "$shared/data/cifar10-test-1000" --preset cifar10)
mobilenet="$shared/models/mobilenetv2-imagenet.onnx"
mobilenet_dyn="$shared/models/mobilenetv2-imagenet-dynbatch.onnx"
resnet="$shared/models/resnet20-cifar10.onnx"
resnet_dyn="$shared/models/resnet20-cifar10-dynbatch.onnx"

run() {
  local name=$1
  shift
  local out="docs/eval/$name"
  echo "report: $name"
  local readme
  readme=$(mktemp)
  [ -f "$out/README.md" ] && cp "$out/README.md" "$readme"
  rm -rf "$out"
  local start=$SECONDS
  bl "$@" --out "$out"
  [ -s "$readme" ] && cp "$readme" "$out/README.md"
  rm -f "$readme"
  echo "report: $name done in $((SECONDS - start)) s"
}

pointing-imagenet() { run pointing-imagenet eval pointing --model "$mobilenet" "${imagenet[@]}"; }
pointing-imagenet-more() {
  run pointing-imagenet-more eval pointing --model "$mobilenet_dyn" "${imagenet[@]}" --batch 4 \
    --method lrp-epsilon,lrp,clrp1,clrp2,excitation,contrastive-excitation,gradcam,normgrad
}
ablation-imagenet() {
  run ablation-imagenet eval ablation --model "$mobilenet_dyn" "${imagenet[@]}" --limit 100 --batch 4 \
    --method gradient,guided-backprop,lrp,clrp1,clrp2
}
sensitivity-imagenet() { run sensitivity-imagenet eval sensitivity --model "$mobilenet_dyn" "${imagenet[@]}" --limit 150 --batch 4; }
sensitivity-cifar10() { run sensitivity-cifar10 eval sensitivity --model "$resnet_dyn" "${cifar[@]}" --batch 20; }
adversarial-imagenet() {
  run adversarial-imagenet eval adversarial --model "$mobilenet_dyn" "${imagenet[@]}" --limit 100 --batch 4 \
    --epsilon 1/255 --labels "$shared/data/imagenet-val-1300/classes.json"
}
adversarial-cifar10() {
  run adversarial-cifar10 eval adversarial --model "$resnet_dyn" "${cifar[@]}" --batch 20 \
    --epsilon 1/255 --labels "$shared/data/cifar10-test-1000/classes.json"
}
sanity-resnet20() {
  run sanity-resnet20 eval sanity --model "$resnet" "${cifar[@]}" --annotations docs/eval/subsets/cifar10-test-200.json
}
sanity-mobilenetv2() {
  run sanity-mobilenetv2 eval sanity --model "$mobilenet_dyn" "${imagenet[@]}" --limit 8 --batch 8 \
    --method gradient,deconvnet,guided-backprop --layers 52,51,48,44,40,36,32,28,24,20,16,12,8,4,0
}
random-nets-imagenet() {
  run random-nets-imagenet eval random-nets --data "$shared/data/imagenet-val-1300" --size 64 --limit 32 --vgg
}

all=(pointing-imagenet pointing-imagenet-more ablation-imagenet sensitivity-imagenet sensitivity-cifar10
  adversarial-imagenet adversarial-cifar10 sanity-resnet20 sanity-mobilenetv2 random-nets-imagenet)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=("${all[@]}")
for name in "${names[@]}"; do
  if [[ " ${all[*]} " != *" $name "* ]]; then
    echo "report: unknown report '$name' (available: ${all[*]})" >&2
    exit 2
  fi
done
for name in "${names[@]}"; do "$name"; done
