import type { Reporter, TestCase, TestModule, TestSpecification } from 'vitest/node';
import { faultSeed } from './random';
import type { FaultTally } from './scenario';

/**
 * One line per fault scenario as it ends, and the suite's totals before the run's closing line: scenarios, faults
 * injected, rows reconciled and rows lost (which must be 0). Silent when no fault scenario ran.
 */
export default class FaultReporter implements Reporter {
  private readonly seen: Array<{ name: string; state: string; tally: FaultTally }> = [];

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    this.seen.length = 0;
    if (specifications.some((specification) => specification.project.name === 'faults')) {
      process.stdout.write(`fault suite seed ${faultSeed()} (set STRATA_FAULT_SEED to replay another run)\n`);
    }
  }

  onTestCaseResult(test: TestCase): void {
    const tally = test.meta().fault;
    if (!tally) return;
    const state = test.result().state;
    this.seen.push({ name: test.name, state, tally });
    const notes = tally.notes.length > 0 ? ` [${tally.notes.join('; ')}]` : '';
    const problems = tally.problems.length > 0 ? `; ${tally.problems.join('; ')}` : '';
    process.stdout.write(
      `fault scenario ${state === 'passed' ? 'PASS' : 'FAIL'}: ${test.name} (seed ${tally.seed}): ${tally.faults} faults, ${tally.rowsReconciled} rows reconciled, ${tally.rowsLost} lost${notes}${problems}\n`,
    );
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (this.seen.length === 0 && !testModules.some((module) => module.project.name === 'faults')) return;
    const sum = (pick: (tally: FaultTally) => number) => this.seen.reduce((total, entry) => total + pick(entry.tally), 0);
    const passed = this.seen.filter((entry) => entry.state === 'passed').length;
    process.stdout.write(
      `\nFaults: seed ${faultSeed()} (replay with STRATA_FAULT_SEED=${faultSeed()}), ${this.seen.length} scenarios (${passed} passed), ` +
        `${sum((tally) => tally.faults)} faults injected, ${sum((tally) => tally.rowsReconciled)} rows reconciled, ${sum((tally) => tally.rowsLost)} rows lost\n`,
    );
  }
}
