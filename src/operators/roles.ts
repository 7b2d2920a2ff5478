/** Operator roles, least to most: each holds everything the ones before it hold. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Whether `have` grants what `need` requires. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export function lowerRole(a: Role, b: Role): Role {
  return roleAtLeast(a, b) ? b : a;
}

/** A stored role; an unknown value (a newer version's role) counts as the least. */
export function roleOf(stored: string): Role {
  return isRole(stored) ? stored : 'viewer';
}
