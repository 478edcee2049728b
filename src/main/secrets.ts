import { ErrorCode, StrataError } from '../shared/errors';

/** Where a password comes from, as named in the profile. */
export interface SecretSource {
  passwordEnv?: string;
  passwordKeychain?: string;
}

/** Resolves a password at connect time; implementations never log or cache it in plain text on disk. */
export interface SecretResolver {
  resolve(source: SecretSource, label: string): Promise<string | undefined>;
}

/** Passwords from environment variables; the keychain only exists in the desktop app. */
export class EnvSecretResolver implements SecretResolver {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async resolve(source: SecretSource, label: string): Promise<string | undefined> {
    if (source.passwordKeychain) {
      throw new StrataError(
        ErrorCode.SecretUnavailable,
        `${label}: its password is in the desktop app's keychain (${source.passwordKeychain}), which the command line cannot read; use passwordEnv for the CLI and agent`,
      );
    }
    if (!source.passwordEnv) return undefined;
    const value = this.env[source.passwordEnv];
    if (value === undefined) {
      throw new StrataError(ErrorCode.SecretUnavailable, `${label}: environment variable ${source.passwordEnv} is not set`);
    }
    return value;
  }
}
