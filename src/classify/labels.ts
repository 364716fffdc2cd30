// The use labels, exactly as ../shared/taxonomy.md names them. Renaming one is a breaking change.

export const RED_LINE_LABELS = ['domestic_mass_surveillance', 'autonomous_lethal_action', 'mass_casualty_weapons'] as const;
export const RESTRICTED_LABELS = ['targeted_investigation', 'targeting_support', 'offensive_cyber'] as const;
export const LAWFUL_LABELS = [
  'foreign_intelligence', 'military_planning', 'logistics', 'cyber_defense', 'administrative',
  'training_and_simulation', 'translation', 'general',
] as const;

export const USE_LABELS = [...RED_LINE_LABELS, ...RESTRICTED_LABELS, ...LAWFUL_LABELS] as const;
export type UseLabel = (typeof USE_LABELS)[number];
export type RedLineLabel = (typeof RED_LINE_LABELS)[number];

export const TOOL_EFFECTS = ['lethal', 'kinetic', 'surveillance', 'financial', 'external_comms', 'none'] as const;
export type ToolEffect = (typeof TOOL_EFFECTS)[number];

export function isUseLabel(s: string): s is UseLabel {
  return (USE_LABELS as readonly string[]).includes(s);
}
