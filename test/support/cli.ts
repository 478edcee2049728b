import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const STRATA_BIN = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));
/** The bundle `npm run build` writes: what an installed Strata runs. */
export const BUILT_CLI = fileURLToPath(new URL('../../out/main/cli.js', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `strata` command line in a child process, as a DBA or a script would. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, entry: string = STRATA_BIN): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [entry, ...args],
      { env: { ...process.env, STRATA_LOG_FILE: 'off', STRATA_PROFILE: '', ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
