import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { findConfigFile, loadConfig, parseConfigText } from '../../config/index.js';
import { isRedlineError } from '../../errors.js';

export function register(program: Command): void {
  const config = program.command('config').description('configuration file tools');
  config
    .command('check [file]')
    .description('validate a config file and explain every problem with its path')
    .action((file: string | undefined) => {
      const path = findConfigFile(file ? { file } : {});
      if (!path) {
        console.log('no config file found: the gateway would start with embedded defaults (model "demo")');
        return;
      }
      try {
        parseConfigText(readFileSync(path, 'utf8'), path);
        const c = loadConfig({ file: path });
        for (const w of c.warnings) console.log(`warning: ${w}`);
        console.log(`${path}: ok (${c.providers.length} providers, ${c.routes.length} routes)`);
      } catch (e) {
        if (!isRedlineError(e)) throw e;
        console.error(e.message);
        for (const issue of (e.details?.issues as string[] | undefined) ?? []) console.error(`  - ${issue}`);
        process.exitCode = 1;
      }
    });
}
