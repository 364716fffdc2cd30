// The gateway's public door: the HTTP app and the request-path steps that the composition root, the
// CLI (policy explain, ledger disclose) and the bench reuse, so none of them re-implements a step.
export { buildApp, newRequestId, type AppDeps } from './app.js';
export { createAuthenticator, type Authenticator, type Caller } from './auth.js';
export { createMetrics, type Metrics } from './metrics.js';
export { createAssessor, maskFindings, type Assessment, type Assessor, type AssessorOptions, type GuardStage } from './assess.js';
export { decideCall, policyInputOf, enforce, type CallDecision, type PolicyDeps } from './decide.js';
export { decisionEntry, contentOf, contentSalt, pseudonymOf, pseudonymizer, type DecisionLog, type RecordDeps } from './record.js';
export { createGate, REQUEST_TOOL, type Gate, type GateDeps, type GateContext, type GateReport, type ToolRules, type DeliveryMode } from './gate.js';
export { handle, type Call, type Outcome, type PipelineDeps } from './pipeline.js';
export { errorBody, normaliseError, openAIErrorBody, anthropicErrorBody, type ApiFlavour } from './errors.js';
export { redlineRoutes, requireRole, type RedlineRouteDeps } from './routes/redline.js';
export { approvalRoutes } from './routes/approvals.js';
export { ledgerRoutes } from './routes/ledger.js';
