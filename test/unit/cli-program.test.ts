import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCliContext, type CliContext } from '../../src/cli/context';
import { buildFullProgram, buildProgram, commandNamedBy, COMMANDS } from '../../src/cli/program';

const noContext = (): Promise<CliContext> => Promise.reject(new Error('this command line needs no context'));

/** The help of a command and of every subcommand under it, by path. */
function helpTree(command: Command, path: string[] = []): Map<string, string> {
  const tree = new Map([[path.join(' '), command.helpInformation()]]);
  for (const sub of command.commands) for (const [key, text] of helpTree(sub, [...path, sub.name()])) tree.set(key, text);
  return tree;
}

describe('the command line loads only the command it runs', () => {
  let context: CliContext;
  let full: Command;

  beforeAll(async () => {
    context = await createCliContext({ STRATA_LOG_FILE: 'off' });
    full = await buildFullProgram(context);
  });

  it('prints the same `strata --help` from the listing as with every command loaded, and builds no context for it', async () => {
    const { program, context: built } = await buildProgram(['--help'], noContext);
    expect(program.helpInformation()).toBe(full.helpInformation());
    expect(built).toBeUndefined();
  });

  it('lists every registered command, in order', () => {
    expect(COMMANDS.map((entry) => entry.name)).toEqual(full.commands.map((command) => command.name()));
  });

  it.each(COMMANDS.map((entry) => entry.name))('gives `%s` its full definition: every subcommand and flag as before', async (name) => {
    const { program } = await buildProgram([name, '--help'], () => Promise.resolve(context));
    const loaded = program.commands.find((command) => command.name() === name)!;
    const before = full.commands.find((command) => command.name() === name)!;
    expect(helpTree(loaded)).toEqual(helpTree(before));
    expect(program.helpInformation()).toBe(full.helpInformation());
  });

  it('finds the command after `help` and past options, and none for a typo or no command', () => {
    expect(commandNamedBy(['help', 'prune'])?.name).toBe('prune');
    expect(commandNamedBy(['-h', 'status'])?.name).toBe('status');
    expect(commandNamedBy(['sandbox', 'up', '--dir', '/tmp/x'])?.name).toBe('sandbox');
    expect(commandNamedBy(['statsu'])).toBeUndefined();
    expect(commandNamedBy(['--version'])).toBeUndefined();
    expect(commandNamedBy([])).toBeUndefined();
  });
});
