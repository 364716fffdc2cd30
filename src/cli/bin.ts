#!/usr/bin/env node
import { cliErrorText } from './errors.js';
import { buildProgram } from './program.js';
import { register as config } from './commands/config.js';
import { register as keys } from './commands/keys.js';
import { register as serve } from './commands/serve.js';
import { register as ledger } from './commands/ledger.js';
import { register as approvals } from './commands/approvals.js';
import { register as receipt } from './commands/receipt.js';
import { register as policy } from './commands/policy.js';
import { register as classify } from './commands/classify.js';
import { register as report } from './commands/report.js';

const program = buildProgram([serve, config, keys, policy, classify, ledger, report, approvals, receipt]);
program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(cliErrorText(e));
  process.exit(1);
});
