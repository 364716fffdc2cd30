import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { startGateway } from '../../main.js';

export function register(program: Command): void {
  program
    .command('serve', { isDefault: true })
    .description('start the gateway (embedded defaults when no config file is found)')
    .option('-c, --config <file>', 'config file (YAML or JSON); default: $REDLINE_CONFIG or ./redline.yaml')
    .action(async (opts: { config?: string }) => {
      const config = loadConfig(opts.config ? { file: opts.config } : {});
      const gw = await startGateway(config);
      const log = gw.app.log;
      for (const w of config.warnings) log.warn(w);
      log.info({ url: gw.url, config: config.source, dataDir: config.dataDir, models: config.routes.map((r) => r.alias) }, 'redline gateway listening');
      if (gw.createdAdminKey) {
        process.stdout.write(
          `\n  First start: created the admin API key (shown only this once; store it now):\n\n    ${gw.createdAdminKey}\n\n` +
          `  Try it:\n    curl ${gw.url}/v1/chat/completions -H "authorization: Bearer ${gw.createdAdminKey}" \\\n` +
          `      -H "content-type: application/json" -d '{"model":"demo","messages":[{"role":"user","content":"hello"}]}'\n\n`,
        );
      }
      let closing = false;
      const shutdown = async (signal: string) => {
        if (closing) return;
        closing = true;
        log.info({ signal }, 'shutting down');
        await gw.close();
        process.exit(0);
      };
      // SIGHUP reloads the policy set (the same path as a file change or the admin API).
      process.on('SIGHUP', () => void gw.reloadPolicy('SIGHUP'));
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
    });
}
