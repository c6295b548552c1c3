/**
 * Layer-map methods of Rebuffi et al.'s extraction × aggregation framework (see framework.ts):
 * Grad-CAM, Guided Grad-CAM and the NormGrad variants.
 */
import { SEED } from '../params.js';
import { layerMap } from '../spec.js';

const common = { group: 'layer-map', extraction: 'gradient', params: [SEED] } as const;

export const LAYER_MAP_METHODS = [
  layerMap({
    ...common, name: 'gradcam', label: 'Grad-CAM', aggregation: 'gradcam', upsample: 'bilinear', layer: 'spatial', guided: false, signed: false,
    summary: 'Grad-CAM (Selvaraju et al.): ReLU(Σ_c A_c · mean ∂S/∂A_c) at a layer, upsampled to the input',
  }),
  layerMap({
    ...common, name: 'guided-gradcam', label: 'Guided Grad-CAM', aggregation: 'gradcam', upsample: 'nearest', layer: 'spatial', guided: true, signed: true,
    summary: 'Guided Backprop ⊙ Grad-CAM (nearest-upsampled, as Captum)',
  }),
  layerMap({
    ...common, name: 'normgrad', label: 'NormGrad', aggregation: 'normgrad', upsample: 'bilinear', layer: 'spatial', guided: false, signed: false,
    summary: 'NormGrad (Rebuffi et al.): ‖x_u‖·‖g_u‖ at a layer (a virtual identity layer), upsampled',
  }),
  layerMap({
    ...common, name: 'normgrad-conv', label: 'NormGrad (conv)', aggregation: 'normgrad-conv', upsample: 'bilinear', layer: 'conv', guided: false, signed: false,
    summary: "NormGrad of a Conv layer: ‖g_u‖ · ‖input patch_u‖ (the layer names the Conv's output), upsampled",
  }),
  layerMap({
    ...common, name: 'normgrad-selective', label: 'Selective NormGrad', aggregation: 'normgrad-selective', upsample: 'bilinear', layer: 'spatial', guided: false, signed: false,
    summary: 'selective NormGrad: ‖max(0, x_u ⊙ g_u)‖ at a layer, upsampled',
  }),
] as const;
