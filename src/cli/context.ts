import { Option, type Command } from 'commander';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { errorCodeName, isStrataError } from '../shared/errors';
import type { Profile } from '../shared/profile';
import type { Logger } from '../main/log';
import type { StrataServices } from '../main/services';

/** What every CLI command shares: the logger, profile loading, service wiring and output. */
export interface CliContext {
  logger: Logger;
  host: string;
  /** Loads the profile named by --profile or STRATA_PROFILE, builds the services, runs work, disposes. */
  withServices<T>(profilePath: string | undefined, work: (services: StrataServices, profile: Profile) => Promise<T>): Promise<T>;
  /** Prints data as JSON for scripts, or as text for people. */
  print(json: boolean | undefined, data: unknown, text: () => string): void;
  /** Sets the process exit code without killing pending output. */
  setExitCode(code: number): void;
}

export function profileOption(): Option {
  return new Option('--profile <file>', 'cluster profile (JSON)').env('STRATA_PROFILE');
}

export function jsonOption(): Option {
  return new Option('--json', 'print machine-readable JSON on stdout');
}

/**
 * The logger and the services are imported here, not at the top, so that `strata --help` and commands that never
 * connect do not load the database drivers, the schemas and the log library (see bench/startup).
 */
export async function createCliContext(env: NodeJS.ProcessEnv = process.env): Promise<CliContext> {
  const { createLogger } = await import('../main/log');
  const logDir = env.STRATA_LOG_DIR ?? join(homedir(), '.strata', 'logs');
  const logger = createLogger({
    logId: 'cli',
    file: env.STRATA_LOG_FILE === 'off' ? undefined : join(logDir, 'strata-cli.log'),
    consoleLevel: env.STRATA_DEBUG ? 'debug' : false,
  });
  return {
    logger,
    host: hostname(),
    async withServices(profilePath, work) {
      const [{ loadProfile }, { EnvSecretResolver }, { createServices }] = await Promise.all([
        import('../main/profile-loader'),
        import('../main/secrets'),
        import('../main/services'),
      ]);
      const profile = await loadProfile(profilePath);
      const services = createServices({ profile, secrets: new EnvSecretResolver(), logger });
      try {
        return await work(services, profile);
      } finally {
        await services.dispose();
      }
    },
    print(json, data, text) {
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
    },
    setExitCode(code) {
      process.exitCode = code;
    },
  };
}

/** A shard whose part of a multi-shard answer is missing; `problem` says why, when the answer knows. */
export interface MissingShardPart {
  shardName: string;
  problem?: { code: number; message: string };
}

/**
 * Says that an answer read from several shards lacks some of them: one line per missing shard on stderr (also
 * with --json, whose stdout stays the answer alone) and exit 1, so a script never takes the rest for the whole.
 * Answers true when something was missing.
 */
export function reportPartial(context: Pick<CliContext, 'setExitCode'>, what: string, missing: readonly MissingShardPart[]): boolean {
  for (const shard of missing) {
    const cause = shard.problem ? `error ${shard.problem.code} (${errorCodeName(shard.problem.code)}): ${shard.problem.message}` : 'it did not answer';
    process.stderr.write(`strata: partial result: ${what} lacks ${shard.shardName}: ${cause}\n`);
  }
  if (missing.length > 0) context.setExitCode(1);
  return missing.length > 0;
}

/** One line on stderr naming the cause; the stack goes to the log file only. */
export function reportCliError(error: unknown, logger: Logger, json: boolean): number {
  logger.scope('cli').error('command failed', error);
  if (isStrataError(error)) {
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, code: error.code, message: error.message })}\n`);
    process.stderr.write(`strata: error ${error.code} (${errorCodeName(error.code)}): ${error.message}\n`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`strata: internal error: ${message.split('\n')[0]} (details in the log)\n`);
  return 1;
}

/** Resolves on the first SIGINT or SIGTERM; a second one falls through to Node's default and ends the process. */
export function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export type CommandRegistrar = (program: Command, context: CliContext) => void;
