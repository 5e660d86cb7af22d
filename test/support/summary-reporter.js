// The spec reporter's output, then one last line `N passed, N failed, N skipped` that CI reads.
import { Readable } from 'node:stream';
import { spec } from 'node:test/reporters';

export default async function* summaryReporter(source) {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  async function* count() {
    for await (const event of source) {
      // Suites report their own pass/fail too: count leaf tests only.
      const isLeaf = event.data?.details?.type !== 'suite';
      if (isLeaf && event.type === 'test:pass') {
        if (event.data.skip || event.data.todo) totals.skipped++;
        else totals.passed++;
      } else if (isLeaf && event.type === 'test:fail') {
        totals.failed++;
      }
      yield event;
    }
  }
  for await (const chunk of Readable.from(count()).pipe(new spec())) yield chunk;
  yield `\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`;
}
