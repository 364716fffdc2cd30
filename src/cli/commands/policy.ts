// `redline policy ...`: check and test a policy set. Thin over src/policy.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isRedlineError } from '../../errors.js';
import { createPolicyEngine, DEFAULT_POLICY_DIR, loadPolicyDir, runPolicyTests, type PolicyEngine } from '../../policy/index.js';

const DEFAULT_DIR_HELP = 'policies/default, else the pack shipped with redline';

/** ./policies/default when the working directory has one, else the pack shipped with redline. */
function defaultDir(): string {
  return existsSync('policies/default') ? 'policies/default' : DEFAULT_POLICY_DIR;
}

function engineFor(dir: string): PolicyEngine | undefined {
  try {
    return createPolicyEngine({ dir });
  } catch (e) {
    const issues = isRedlineError(e) && Array.isArray(e.details?.issues) ? (e.details.issues as string[]) : [String(e)];
    console.error(`policy set ${dir} is invalid:`);
    for (const i of issues) console.error(`  ${i}`);
    process.exitCode = 1;
    return undefined;
  }
}

export function register(program: Command): void {
  const policy = program.command('policy').description('check and test Cedar policy sets');

  policy
    .command('validate')
    .description('parse and validate a policy set against its schema; print its version')
    .option('--policies <dir>', `policy set directory (default ${DEFAULT_DIR_HELP})`)
    .option('--json', 'print JSON')
    .action((o: { policies?: string; json?: boolean }) => {
      const dir = o.policies ?? defaultDir();
      const r = loadPolicyDir(dir);
      if (o.json) console.log(JSON.stringify(r.ok ? { ok: true, version: r.set.version, policies: r.set.policies.map((p) => p.id) } : r));
      else if (r.ok) {
        console.log(`ok  ${dir}  version ${r.set.version}`);
        for (const p of r.set.policies) console.log(`  ${p.id.padEnd(42)} ${p.class.padEnd(6)} ${p.severity.padEnd(8)} ${p.file}:${p.line}`);
      } else {
        console.error(`policy set ${dir} is invalid:`);
        for (const e of r.errors) console.error(`  ${e}`);
      }
      if (!r.ok) process.exitCode = 1;
    });

  policy
    .command('test')
    .description('run policy test cases (YAML) against a policy set; exit 1 on any failure')
    .argument('[dir]', 'directory of test files, or one file (default: the policy set\'s tests/)')
    .option('--policies <dir>', `policy set directory (default ${DEFAULT_DIR_HELP})`)
    .action((dir: string | undefined, o: { policies?: string }) => {
      const policies = o.policies ?? defaultDir();
      const engine = engineFor(policies);
      if (!engine) return;
      const testsDir = dir ?? join(policies, 'tests');
      let report;
      try {
        report = runPolicyTests(testsDir, engine);
      } catch (e) {
        console.error(`cannot read tests in ${testsDir}: ${(e as Error).message}`);
        process.exitCode = 1;
        return;
      }
      for (const r of report.results) {
        console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.file} › ${r.name}`);
        for (const d of r.diff) console.log(`        ${d}`);
      }
      const total = report.results.length;
      console.log(`\n${report.failed === 0 ? 'PASS' : 'FAIL'}: ${report.passed}/${total} passed, ${report.failed} failed (policy set ${engine.version.slice(0, 12)})`);
      if (report.failed > 0 || total === 0) process.exitCode = 1;
    });
}
