// The registered bench stages, run in this order after the HTTP targets. Add a stage by writing
// stages/<name>.ts exporting a BenchStage and listing it here.
import type { BenchStage } from '../stage.js';

export const stages: readonly BenchStage[] = [];
