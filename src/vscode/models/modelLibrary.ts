import { readFile } from 'node:fs/promises';
import type { HardwareProfile } from '../../common/hardware/recommend';
import { parseManifestText, type ModelManifest } from '../../common/models/modelManifest';
import { detectHardwareProfile } from '../../node/hardware/hardwareProfile';
import { defaultModelsDir, ModelStore } from '../../node/models/modelStore';

/**
 * What the model commands share: the manifest shipped with the extension, the models directory (the CLI's:
 * `HEARTH_MODELS_DIR` or the per-user data folder), and this machine's hardware profile, each read once.
 */
export class ModelLibrary {
  private manifestPromise: Promise<ModelManifest> | undefined;
  private profilePromise: Promise<HardwareProfile> | undefined;
  readonly dir: string;

  constructor(
    private readonly manifestPath: string,
    dir?: string,
  ) {
    this.dir = dir ?? defaultModelsDir();
  }

  manifest(): Promise<ModelManifest> {
    this.manifestPromise ??= readFile(this.manifestPath, 'utf8').then((text) => parseManifestText(text, this.manifestPath));
    this.manifestPromise.catch(() => (this.manifestPromise = undefined));
    return this.manifestPromise;
  }

  /** The hardware profile without the GPU probe (which loads node-llama-cpp into the extension host). */
  profile(): Promise<HardwareProfile> {
    this.profilePromise ??= detectHardwareProfile(undefined, { gpu: false });
    this.profilePromise.catch(() => (this.profilePromise = undefined));
    return this.profilePromise;
  }

  async store(): Promise<ModelStore> {
    return new ModelStore(this.dir, await this.manifest().catch(() => null));
  }
}
