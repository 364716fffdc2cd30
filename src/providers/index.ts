import { RedlineError } from '../errors.js';
import { createAnthropicProvider } from './anthropic.js';
import { createDemoProvider } from './demo.js';
import { createGeminiProvider } from './gemini.js';
import { createOpenAIProvider } from './openai.js';
import type { Provider, ProviderConfig } from './types.js';

export type { Provider, ProviderConfig, ProviderKind, CallOptions, Timeouts } from './types.js';
export { createDemoProvider, approxTokens } from './demo.js';

export function createProvider(cfg: ProviderConfig): Provider {
  switch (cfg.kind) {
    case 'demo': return createDemoProvider(cfg.name);
    case 'anthropic': return createAnthropicProvider(cfg);
    case 'gemini': return createGeminiProvider(cfg);
    case 'openai':
    case 'xai':
    case 'openai_compatible': return createOpenAIProvider(cfg);
    default: throw new RedlineError('CONFIG_INVALID', `unknown provider kind ${(cfg as ProviderConfig).kind}`);
  }
}

const DEFAULT_BASE_URLS: Record<ProviderConfig['kind'], string> = {
  anthropic: 'https://api.anthropic.com',
  openai: 'https://api.openai.com/v1',
  xai: 'https://api.x.ai/v1',
  gemini: 'https://generativelanguage.googleapis.com',
  openai_compatible: '',
  demo: '',
};

export function defaultBaseUrl(kind: ProviderConfig['kind']): string {
  return DEFAULT_BASE_URLS[kind];
}
