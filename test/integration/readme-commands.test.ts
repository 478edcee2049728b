import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const table = readme.slice(readme.indexOf('## Command line'), readme.indexOf('## The schema'));

interface DocumentedCommand {
  /** Each alternative's words after `strata` (`partitions list|plan` gives two). */
  commands: string[][];
  flags: string[];
  text: string;
}

/** Every `strata …` the README's command table documents, with the flags it names. */
function documentedCommands(): DocumentedCommand[] {
  const rows = table.split('\n').filter((line) => line.startsWith('| `strata'));
  return rows.flatMap((row) =>
    [...row.split(' | ')[0]!.matchAll(/`(strata [^`]+)`/g)].map(([, text]) => {
      const words: string[] = [];
      for (const word of text!.replace(/\\\|/g, '|').split(/\s+/).slice(1)) {
        if (!/^[a-z][a-z-]*(\|[a-z][a-z-]*)*$/.test(word)) break;
        words.push(word);
      }
      const commands = words.reduce<string[][]>((paths, word) => paths.flatMap((path) => word.split('|').map((choice) => [...path, choice])), [[]]);
      return { commands, flags: [...new Set(text!.match(/--[a-z][a-z-]*/g) ?? [])], text: text! };
    }),
  );
}

describe('the README command table', () => {
  const documented = documentedCommands();

  it('documents the commands of the strata CLI', () => {
    expect(documented.length).toBeGreaterThan(25);
  });

  it.each(documented.map((entry) => [entry.text, entry] as const))('%s: the command exists and takes every flag the README names', async (_text, entry) => {
    let help = '';
    for (const words of entry.commands) {
      const run = await runCli([...words, '--help']);
      expect(run.code, `strata ${words.join(' ')} --help: ${run.stderr}`).toBe(0);
      help += run.stdout;
    }
    for (const flag of entry.flags) expect(help, `${flag} is missing from strata ${entry.commands[0]!.join(' ')} --help`).toContain(flag);
  });
});
