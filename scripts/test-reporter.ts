/**
 * A vitest reporter that ends the run with one plain line, after vitest's own
 * output (and after the coverage summary, when there is one):
 *
 *   212 passed, 0 failed
 *
 * with `, N skipped` when a test was skipped; each skipped test is listed
 * above the line with its reason (`ctx.skip(reason)`), as node's spec reporter
 * showed it. A test that could not run because its suite's hook failed counts
 * as failed, and so does each error no test carries (a file that does not
 * load, a failing afterAll, an unhandled error), so the line never says
 * 0 failed on a failed run.
 */
import type { Reporter, TestModule, TestSuite, Vitest } from 'vitest/node';

interface Counts {
  passed: number;
  /** `file > suite > test (reason)` of each skipped test. */
  skipped: string[];
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
    else if (result.state === 'skipped' && !broken)
      counts.skipped.push(`${child.module.relativeModuleId} > ${child.fullName}${result.note ? ` (${result.note})` : ''}`);
    else if (result.state === 'failed' || result.state === 'skipped') failed++; // skipped here: its suite's beforeAll failed
  }
  // An error of the suite or file itself that no test below it carries.
  if (s.errors().length > 0 && failed === 0) failed++;
  return failed;
}

/** The lines that close a run: the skipped tests, then `N passed, N failed[, N skipped]`. */
export function closingLines(modules: ReadonlyArray<TestModule>, unhandledErrors: number): string[] {
  const counts: Counts = { passed: 0, skipped: [] };
  let failed = unhandledErrors;
  for (const m of modules) failed += count(m, counts);
  const skipped = counts.skipped.length;
  return [
    ...counts.skipped.map((s) => `skipped: ${s}`),
    `${counts.passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`,
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
