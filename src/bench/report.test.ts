import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeChecks, type Run, type TargetName } from './report.js';
import { summarise } from './stats.js';

function run(target: TargetName, rps: number, p50: number, phase: Run['phase'] = 'loaded'): Run {
  const latency = { ...summarise([p50]), p50, p99: p50 * 2 };
  return { target, mode: 'json', phase, result: { requests: rps, errors: 0, errorSamples: [], elapsedMs: 1000, rps, latency, loadgenCpuMs: 0 } };
}

const byName = (checks: ReturnType<typeof computeChecks>, name: string) => checks.find((c) => c.name === name);

test('checks: throughput ratios against the bare proxy and the minimal gateway, with the 70% target on the bare proxy only', () => {
  const checks = computeChecks([run('direct', 20_000, 0.5), run('bare', 8_000, 1.5), run('minimal', 10_000, 1.3), run('redline', 6_000, 3)]);
  const vsBare = byName(checks, 'redline throughput as % of bare proxy, non-streaming');
  assert.equal(vsBare?.value, 75);
  assert.equal(vsBare?.pass, true);
  assert.equal(byName(checks, 'minimal gateway throughput as % of bare proxy, non-streaming')?.value, 125);
  const vsMin = byName(checks, 'redline throughput as % of minimal gateway, non-streaming');
  assert.equal(vsMin?.value, 60);
  assert.equal(vsMin?.pass, undefined); // a comparison, not a target
  assert.equal(byName(computeChecks([run('bare', 8_000, 1.5), run('redline', 4_000, 3)]), 'redline throughput as % of bare proxy, non-streaming')?.pass, false);
});

test('checks: the throughput ratio round by round, lowest and highest, pairing each round of the two targets', () => {
  const red = { ...run('redline', 6_000, 3), roundRps: [5_000, 6_000, 7_000] };
  const bare = { ...run('bare', 8_000, 1.5), roundRps: [10_000, 8_000, 7_000] };
  const checks = computeChecks([bare, red]);
  assert.equal(byName(checks, '  same, lowest round of 3')?.value, 50);
  assert.equal(byName(checks, '  same, highest round of 3')?.value, 100);
  assert.equal(byName(checks, '  same, lowest round of 3')?.pass, undefined);
  // One round, or rounds unknown: no spread to show.
  assert.equal(byName(computeChecks([run('bare', 8_000, 1.5), run('redline', 6_000, 3)]), '  same, lowest round of 1'), undefined);
  assert.equal(computeChecks([{ ...run('bare', 8_000, 1.5), roundRps: [8_000] }, { ...run('redline', 6_000, 3), roundRps: [6_000] }]).some((c) => c.name.includes('round of')), false);
});

test('checks: added latency is held on the one-connection phase against the 0.3 ms target', () => {
  const checks = computeChecks([run('direct', 9_000, 0.1, 'serial'), run('redline', 2_000, 0.35, 'serial')]);
  const added = byName(checks, 'redline added latency p50 over direct, non-streaming, 1 connection');
  assert.ok(Math.abs(added!.value - 0.25) < 1e-9);
  assert.equal(added?.pass, true);
  const slow = computeChecks([run('direct', 9_000, 0.1, 'serial'), run('redline', 2_000, 0.6, 'serial')]);
  assert.equal(byName(slow, 'redline added latency p50 over direct, non-streaming, 1 connection')?.pass, false);
  // Without a minimal gateway in the run there is no comparison with it.
  assert.equal(byName(checks, 'redline throughput as % of minimal gateway, non-streaming'), undefined);
});
