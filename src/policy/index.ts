// The policy capability's public door: red lines and restrictions as Cedar policies, decided per
// request and target. See engine.ts for how Cedar's permit/forbid become allow/reroute/hold/deny.
import { fileURLToPath } from 'node:url';

export { createPolicyEngine, newDecisionId, LETHAL_HOLD_ID, type PolicyEngineOptions } from './engine.js';
export { explainDecision, type ExplainOptions } from './explain.js';
export { loadPolicyDir, policySetVersion, isPolicyFile, REASON_FIELDS, type LoadResult } from './loader.js';
export { perMille } from './request.js';
export {
  runPolicyTests, runPolicyCase, loadPolicyTests, loadPolicyTestFile, policyRequestFromObject,
  type PolicyTestCase, type PolicyTestExpect, type PolicyTestResult, type PolicyTestReport,
} from './runner.js';
export * from './types.js';

/** The default pack shipped with redline (policies/default at the package root). */
export const DEFAULT_POLICY_DIR = fileURLToPath(new URL('../../policies/default', import.meta.url));
