import { Command, CommanderError } from 'commander';
import { createCliContext, reportCliError } from './context';
import { registerActivityCommand } from './commands/activity';
import { registerAgentCommand } from './commands/agent';
import { registerBackfillCommand } from './commands/backfill';
import { registerConsoleCommand } from './commands/console';
import { registerDemoCommand } from './commands/demo';
import { registerGenerateCommand } from './commands/generate';
import { registerLeaseCommand } from './commands/lease';
import { registerPartitionsCommand } from './commands/partitions';
import { registerRetentionCommands } from './commands/retention';
import { registerRollupCommand } from './commands/rollup';
import { registerRunsCommand } from './commands/runs';
import { registerSandboxCommand } from './commands/sandbox';
import { registerSchedulesCommand } from './commands/schedules';
import { registerSchemaCommand } from './commands/schema';
import { registerStatusCommand } from './commands/status';

const context = createCliContext();
const program = new Command('strata')
  .description('Operations console for a sharded MySQL web-analytics cluster')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

// In the order a DBA meets them in --help: look, set up, roll up, schedule, serve.
const registrars = [
  registerStatusCommand,
  registerSandboxCommand,
  registerSchemaCommand,
  registerPartitionsCommand,
  registerGenerateCommand,
  registerRollupCommand,
  registerBackfillCommand,
  registerRetentionCommands,
  registerRunsCommand,
  registerSchedulesCommand,
  registerLeaseCommand,
  registerActivityCommand,
  registerAgentCommand,
  registerConsoleCommand,
  registerDemoCommand,
];
for (const register of registrars) register(program, context);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else {
    process.exitCode = reportCliError(error, context.logger, process.argv.includes('--json'));
  }
}
