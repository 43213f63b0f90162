/**
 * A vitest reporter that ends the run with one plain line, after vitest's own
 * output (and after the coverage summary, when there is one):
 *
 *   212 passed, 0 failed
 *
 * with `, N skipped` when a test was skipped; each test skipped with a reason
 * (`ctx.skip(reason)`) is listed above the line with it, as node's spec
 * reporter showed it. A test that could not run because its suite's hook
 * failed counts as failed, and so does each error no test carries (a file
 * that does not load, a failing afterAll, an unhandled error), so the line
 * never says 0 failed on a failed run.
 */
import type { Reporter, TestModule, TestSuite, Vitest } from 'vitest/node';

interface Counts {
  passed: number;
  skipped: number;
  /** `file > suite > test (reason)` of each test skipped with a reason. */
  reasons: string[];
}

/** Counts the tests under `s`; returns how many of them failed. */
function count(s: TestModule | TestSuite, counts: Counts, parentBroken = false): number {
  const broken = parentBroken || s.errors().length > 0;
  let failed = 0;
  for (const child of s.children) {
    if (child.type === 'suite') {
      failed += count(child, counts, broken);
      continue;
    }
    const result = child.result();
    if (result.state === 'passed') counts.passed++;
    else if (result.state === 'skipped' && !broken) {
      counts.skipped++;
      if (result.note) counts.reasons.push(`${child.module.relativeModuleId} > ${child.fullName} (${result.note})`);
    } else if (result.state === 'failed' || result.state === 'skipped') failed++; // skipped here: its suite's beforeAll failed
  }
  // An error of the suite or file itself that no test below it carries.
  if (s.errors().length > 0 && failed === 0) failed++;
  return failed;
}

/** The lines that close a run: the reasons of skips, then `N passed, N failed[, N skipped]`. */
export function closingLines(modules: ReadonlyArray<TestModule>, unhandledErrors: number): string[] {
  const counts: Counts = { passed: 0, skipped: 0, reasons: [] };
  let failed = unhandledErrors;
  for (const m of modules) failed += count(m, counts);
  return [
    ...counts.reasons.map((r) => `skipped: ${r}`),
    `${counts.passed} passed, ${failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`,
  ];
}

export default class ClosingLineReporter implements Reporter {
  private vitest!: Vitest;
  private lines: string[] = [];

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    // `vitest run` prints the coverage summary after onTestRunEnd: print the
    // lines once the run is closed so that the closing line comes last.
    vitest.onClose(() => this.flush());
  }

  onTestRunEnd: Reporter['onTestRunEnd'] = (modules, unhandledErrors) => {
    if (!modules.length && !unhandledErrors.length) return; // no test file matched: vitest says so
    this.lines = closingLines(modules, unhandledErrors.length);
    if (this.vitest.config.watch) this.flush();
  };

  private flush(): void {
    for (const line of this.lines) this.vitest.logger.log(line);
    this.lines = [];
  }
}
