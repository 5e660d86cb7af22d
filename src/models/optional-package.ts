import { ConfigError } from '../core/errors.js';
import { importOrExplain } from '../core/optional-import.js';

/**
 * The backends whose libraries are not in the default install (they weigh hundreds of MB and
 * the embedded defaults do not need them): each is an optional peer dependency of pronto, and
 * this is the exact command that installs it at the version pronto is tested with.
 */
export const OPTIONAL_PACKAGES = {
  'node-llama-cpp': { backend: 'llama', install: 'npm install node-llama-cpp@3.21.1' },
  '@huggingface/transformers': { backend: 'onnx', install: 'npm install @huggingface/transformers@4.3.2' },
} as const;

/** Loads an optional backend library; when it is not installed, fails at start with the command that installs it. */
export function importOptional<T>(name: keyof typeof OPTIONAL_PACKAGES, load: () => Promise<T>): Promise<T> {
  const { backend, install } = OPTIONAL_PACKAGES[name];
  return importOrExplain(name, load, () => new ConfigError('models', `the ${backend} backend needs ${name}, which is not installed: run \`${install}\``));
}

/** Whether an optional library is installed (tests of its backend skip when it is not). */
export async function isInstalled(name: keyof typeof OPTIONAL_PACKAGES): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}
