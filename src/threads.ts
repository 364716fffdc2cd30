// Starting a worker thread from a sibling module's entry file, whether redline runs compiled (dist/,
// .js) or from source (the tests load TypeScript through tsx).
import { Worker } from 'node:worker_threads';

/**
 * A worker running the module `name` (without extension) beside `from` (the caller's import.meta.url).
 * Run from source, Node 20 does not carry `--import` hooks into a worker, so the thread registers tsx
 * itself before loading its TypeScript entry.
 */
export function startWorker(from: string, name: string, workerData: unknown): Worker {
  const fromSource = from.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, from);
  if (!fromSource) return new Worker(url, { workerData });
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
