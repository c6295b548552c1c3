/**
 * Class names of the small built-in presets, in index order. ImageNet-1k's 1,000 names are in
 * imagenetClasses.ts (generated from torchvision).
 */

/** CIFAR-10's classes as its `batches.meta` (and torchvision's `CIFAR10.classes`) names them; test/preprocess.api.test.ts checks them against ../shared/data/cifar10-test-1000/classes.json. */
export const CIFAR10_CLASSES: readonly string[] = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** MNIST's classes: the digits, class i is the digit i. */
export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
