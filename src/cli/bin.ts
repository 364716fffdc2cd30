#!/usr/bin/env node
import { isRedlineError } from '../errors.js';
import { buildProgram } from './program.js';
import { register as config } from './commands/config.js';
import { register as keys } from './commands/keys.js';
import { register as serve } from './commands/serve.js';

const program = buildProgram([serve, config, keys]);
program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(isRedlineError(e) ? `${e.code}: ${e.message}${e.details?.issues ? '\n  - ' + (e.details.issues as string[]).join('\n  - ') : ''}` : e);
  process.exit(1);
});
