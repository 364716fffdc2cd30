import { RedlineError } from '../errors.js';

export interface Target { provider: string; model: string }
export interface Route { alias: string; targets: readonly Target[] }

export interface RouteTable {
  resolve(model: string): Route;
  aliases(): string[];
}

/**
 * Aliases from the config map to ordered targets. A client may also name `provider/model` directly
 * for any declared provider (one target, no fallback).
 */
export function createRouteTable(routes: readonly Route[], providerNames: readonly string[]): RouteTable {
  const byAlias = new Map(routes.map((r) => [r.alias, r]));
  const providers = new Set(providerNames);
  return {
    resolve(model) {
      const r = byAlias.get(model);
      if (r) return r;
      const slash = model.indexOf('/');
      if (slash > 0 && providers.has(model.slice(0, slash)) && slash < model.length - 1) {
        return { alias: model, targets: [{ provider: model.slice(0, slash), model: model.slice(slash + 1) }] };
      }
      throw new RedlineError('MODEL_NOT_FOUND', `The model '${model.slice(0, 200)}' does not exist on this gateway. Known models: ${[...byAlias.keys()].join(', ') || 'none'}.`, { param: 'model' });
    },
    aliases: () => [...byAlias.keys()],
  };
}
