import { SingleBar } from 'cli-progress';
import { Option } from 'commander';
import type { GenerateProgress, GenerateSummary } from '../../main/generate/service';
import { MAX_SITES, MAX_VIEWS, parseGenerateRequest } from '../../main/generate/spec';
import { EXIT_CANCELLED } from '../input';
import { jsonOption, profileOption, type CommandRegistrar } from '../context';

interface GenerateOptions {
  from: string;
  to: string;
  sites: string;
  views: string;
  seed?: string;
  profile?: string;
  json?: boolean;
}


const count = (value: number) => Math.round(value).toLocaleString('en-US');

export function formatGenerateSummary(summary: GenerateSummary): string {
  const perShard = summary.rowsPerShard.map((shard) => `${shard.name} ${count(shard.rows)}`).join(', ');
  const head = summary.cancelled
    ? `cancelled: inserted ${count(summary.rows)} of ${count(summary.views)} page views`
    : `inserted ${count(summary.rows)} page views`;
  return [
    `${head} (${perShard}) for ${count(summary.sites)} sites, ${summary.from} to ${summary.to}, seed ${summary.seed}`,
    `${summary.seconds.toFixed(1)} s, ${count(summary.rowsPerSecond)} rows/s`,
  ].join('\n');
}

/** A progress bar on stderr when a person is watching; nothing otherwise. */
function progressBar(enabled: boolean): { update(progress: GenerateProgress): void; stop(): void } {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new SingleBar({
    format: 'generating [{bar}] {percentage}% | {done}/{all} rows | {speed} rows/s | ETA {eta_formatted}',
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 40,
  });
  let started = false;
  return {
    update(progress) {
      const payload = { done: count(progress.rowsDone), all: count(progress.rowsTotal), speed: count(progress.rowsPerSecond) };
      if (!started) {
        bar.start(progress.rowsTotal, progress.rowsDone, payload);
        started = true;
      } else {
        bar.update(progress.rowsDone, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export const registerGenerateCommand: CommandRegistrar = (program, context) => {
  program
    .command('generate')
    .description('insert exactly N synthetic page views into analytics_realtime, each on the shard that owns its site')
    .addOption(new Option('--from <iso>', 'first instant, ISO-8601 UTC (2025-03-01 or 2025-03-01T00:00:00Z)').makeOptionMandatory())
    .addOption(new Option('--to <iso>', 'end instant (exclusive), ISO-8601 UTC').makeOptionMandatory())
    .addOption(new Option('--sites <n>', `number of sites, ids 1..n (at most ${count(MAX_SITES)})`).makeOptionMandatory())
    .addOption(new Option('--views <n>', `number of page views to insert (at most ${count(MAX_VIEWS)})`).makeOptionMandatory())
    .addOption(new Option('--seed <s>', 'random seed 0..4294967295; the same seed gives the same rows (default: random, printed)'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: GenerateOptions) => {
      // Checked before the profile is even read: bad input never touches a shard.
      const spec = parseGenerateRequest(options);
      const request = { from: options.from, to: options.to, sites: spec.sites, views: spec.views, seed: spec.seed };
      const bar = progressBar(!options.json && Boolean(process.stderr.isTTY));
      const cancel = new AbortController();
      const onInterrupt = () => cancel.abort();
      process.once('SIGINT', onInterrupt);
      let summary: GenerateSummary;
      try {
        summary = await context.withServices(options.profile, (services) =>
          services.generator.run(request, { signal: cancel.signal, onProgress: (progress) => bar.update(progress) }),
        );
      } finally {
        bar.stop();
        process.removeListener('SIGINT', onInterrupt);
      }
      context.print(options.json, summary, () => formatGenerateSummary(summary));
      if (summary.cancelled) context.setExitCode(EXIT_CANCELLED);
    });
};
