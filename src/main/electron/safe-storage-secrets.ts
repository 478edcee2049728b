import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SafeStorage } from 'electron';
import { z } from 'zod';
import { ErrorCode, StrataError } from '../../shared/errors';
import { EnvSecretResolver, type SecretResolver, type SecretSource } from '../secrets';

/** The parts of Electron's safeStorage the resolver uses; injected so this module never imports Electron at runtime. */
export type KeychainEncryption = Pick<SafeStorage, 'isAsyncEncryptionAvailable' | 'encryptStringAsync' | 'decryptStringAsync' | 'getSelectedStorageBackend'>;

const secretFileSchema = z.object({
  version: z.literal(1),
  /** passwordKeychain id → ciphertext from safeStorage, base64. */
  passwords: z.record(z.string(), z.string()),
});
type SecretFile = z.infer<typeof secretFileSchema>;

/**
 * Desktop-app passwords: `passwordKeychain` ids are kept encrypted by the OS keychain (Electron safeStorage) in one
 * file under the app's userData folder; `passwordEnv` works as in the CLI. Refuses instead of ever storing plain text.
 */
export class SafeStorageSecretResolver implements SecretResolver {
  private readonly env: EnvSecretResolver;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly encryption: KeychainEncryption,
    private readonly file: string,
    env: NodeJS.ProcessEnv = process.env,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {
    this.env = new EnvSecretResolver(env);
  }

  async resolve(source: SecretSource, label: string): Promise<string | undefined> {
    if (!source.passwordKeychain) return this.env.resolve(source, label);
    const id = source.passwordKeychain;
    await this.requireEncryption(`${label}: cannot read its password (${id})`);
    const stored = (await this.readFile()).passwords[id];
    if (stored === undefined) {
      throw new StrataError(ErrorCode.SecretUnavailable, `${label}: no password is stored in the keychain under "${id}"`);
    }
    let decrypted: Awaited<ReturnType<KeychainEncryption['decryptStringAsync']>>;
    try {
      decrypted = await this.encryption.decryptStringAsync(Buffer.from(stored, 'base64'));
    } catch (error) {
      throw new StrataError(ErrorCode.SecretUnavailable, `${label}: the keychain could not decrypt the password stored under "${id}"; store it again`, { cause: error });
    }
    // The OS rotated its key: store the password again so it stays readable.
    if (decrypted.shouldReEncrypt) await this.store(id, decrypted.result);
    return decrypted.result;
  }

  /** Encrypts and saves a password under a keychain id, replacing any earlier one. */
  async store(id: string, password: string): Promise<void> {
    await this.requireEncryption(`cannot store the password for "${id}"`);
    const ciphertext = (await this.encryption.encryptStringAsync(password)).toString('base64');
    await this.update((file) => ({ ...file, passwords: { ...file.passwords, [id]: ciphertext } }));
  }

  async forget(id: string): Promise<void> {
    await this.update((file) => ({ ...file, passwords: Object.fromEntries(Object.entries(file.passwords).filter(([key]) => key !== id)) }));
  }

  private async requireEncryption(what: string): Promise<void> {
    const available = await this.encryption.isAsyncEncryptionAvailable();
    // On Linux without a keyring, safeStorage falls back to a hard-coded key: as good as plain text.
    const weakLinuxBackend = this.platform === 'linux' && this.encryption.getSelectedStorageBackend() === 'basic_text';
    if (!available || weakLinuxBackend) {
      throw new StrataError(
        ErrorCode.SecretUnavailable,
        `${what}: no OS keychain is available, and Strata will not keep passwords in plain text; use passwordEnv instead`,
      );
    }
  }

  private async readFile(): Promise<SecretFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, passwords: {} };
      throw new StrataError(ErrorCode.SecretUnavailable, `cannot read the password store ${this.file}: ${(error as Error).message}`, { cause: error });
    }
    try {
      return secretFileSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new StrataError(ErrorCode.SecretUnavailable, `the password store ${this.file} is damaged; delete it and store the passwords again`, { cause: error });
    }
  }

  /** Read-modify-write, one at a time, replacing the file atomically so a crash never leaves half a store. */
  private update(change: (file: SecretFile) => SecretFile): Promise<void> {
    const next = this.writes.then(async () => {
      const updated = change(await this.readFile());
      await mkdir(dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(updated, null, 2)}\n`, { mode: 0o600 });
      await rename(temporary, this.file);
    });
    this.writes = next.catch(() => undefined);
    return next;
  }
}
