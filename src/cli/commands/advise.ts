import type { AdviceFinding, AdviceReport } from '../../shared/monitor';
import { jsonOption, profileOption, reportPartial, type CommandRegistrar } from '../context';

const SEVERITY_MARK: Record<AdviceFinding['severity'], string> = { ok: 'ok', info: 'info', warning: 'WARN' };

/** The findings as a table per shard: each setting, its value and the recommendation; the why and the fix beneath. */
export function formatAdvice(report: AdviceReport): string {
  const lines = [`config advice (checked ${report.checkedAt})`];
  const shards = [...new Map(report.findings.map((finding) => [finding.shard, finding.shardName])).entries()].sort(([a], [b]) => a - b);
  for (const [shard, shardName] of shards) {
    const findings = report.findings.filter((finding) => finding.shard === shard);
    const warnings = findings.filter((finding) => finding.severity === 'warning').length;
    lines.push('', `${shardName}: ${warnings === 0 ? 'nothing to change' : `${warnings} warning${warnings === 1 ? '' : 's'}`}`);
    const subjectWidth = Math.max(...findings.map((finding) => finding.subject.length));
    const actualWidth = Math.max(...findings.map((finding) => (finding.actual ?? '').length));
    for (const finding of findings) {
      const recommended = finding.recommended ? `  recommended ${finding.recommended}` : '';
      lines.push(`  ${SEVERITY_MARK[finding.severity].padEnd(4)}  ${finding.subject.padEnd(subjectWidth)}  ${(finding.actual ?? '').padEnd(actualWidth)}${recommended}`.trimEnd());
      if (finding.severity !== 'ok') {
        lines.push(`        ${finding.message}`);
        if (finding.fix) lines.push(`        fix: ${finding.fix}`);
      }
    }
  }
  for (const unread of report.unreadShards) lines.push('', `${unread.shardName}: NOT READ: ${unread.problem.message}`);
  return lines.join('\n');
}

export const registerAdviseCommand: CommandRegistrar = (program, context) => {
  program
    .command('advise')
    .description("each shard's settings (buffer pool, redo log, flush at commit, query cache), indexes and partitioning against the recommended my.cnf and schema, with the statement that fixes each finding")
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { profile?: string; json?: boolean }) => {
      const report = await context.withServices(options.profile, (services) => services.advisor.advise());
      context.print(options.json, report, () => formatAdvice(report));
      reportPartial(context, 'the advice', report.unreadShards);
    });
};
