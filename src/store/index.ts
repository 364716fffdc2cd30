export type { ApiKeyInfo, AuditOutbox, KeyStore, Principal, RequestLog, RequestRecord, Store } from './types.js';
export { DB_FILE, openDatabase, createSqliteStore } from './sqlite.js';
export { keyChangeEvent, type KeyChange } from './key-events.js';
export { generateApiKey, hashApiKey, keyDisplayPrefix, KEY_PREFIX } from './keys.js';
export { createSqliteSketchStore, createMemorySketchStore } from './sketch-store.js';
export { loadOrCreateSecret } from './secrets.js';
export { startCheckpointer, type Checkpointer } from './checkpointer.js';
