import { CommanderError } from 'commander';
import { createCliContext, reportCliError } from './context';
import { buildProgram } from './program';

// Only the command being run is imported (and the logger and services only when it runs): `strata --help` and
// `strata status` start in a fraction of the time it takes to load every command (see bench/startup).
const { program, context } = await buildProgram(process.argv.slice(2), () => createCliContext());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else {
    const { logger } = context ?? (await createCliContext());
    process.exitCode = reportCliError(error, logger, process.argv.includes('--json'));
  }
}
