/**
 * Roles in a conference, ordered: a higher role has every privilege of a lower one.
 * Kept as numbers so that comparisons read naturally (`role >= Role.Presenter`).
 */
export const Role = {
  Attendee: 0,
  Presenter: 1,
  Organizer: 2,
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export const ROLE_NAMES = ['attendee', 'presenter', 'organizer'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export function roleName(role: Role): RoleName {
  return ROLE_NAMES[role]!;
}

export function roleFromName(name: RoleName): Role {
  return ROLE_NAMES.indexOf(name) as Role;
}

/** May manage the conference: roles, lobby, removal, policy. */
export function canModerate(role: Role): boolean {
  return role >= Role.Organizer;
}
