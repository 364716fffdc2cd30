export { loadConfig, parseConfigText, findConfigFile, formatIssues, deepFreeze, EMBEDDED_CONFIG, type Config, type ResolvedProvider, type LoadOptions } from './load.js';
export { ConfigFileSchema, type ConfigFile, type ProviderEntry, type RouteEntry } from './schema.js';
