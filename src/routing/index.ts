export { createRouteTable, type Route, type RouteTable, type Target } from './route.js';
export { createExecutor, type Executor, type ExecuteResult, type AttemptReport, type RetryPolicy, type BreakerPolicy } from './execute.js';
export { CircuitBreaker, type BreakerState } from './breaker.js';
