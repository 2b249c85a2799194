import type { AuthCommand } from '../../../src/auth/index.js';

/** A root user with the root role, role `role` granted `permission` on [app/, app0), and alice holding it. */
export function rootAndAlice(role: string, permission: 'read' | 'readwrite'): AuthCommand[] {
  return [
    { type: 'userAdd', name: 'root', passwordHash: 'h' },
    { type: 'userGrantRole', name: 'root', role: 'root' },
    { type: 'roleAdd', name: role },
    {
      type: 'roleGrantPermission',
      name: role,
      permission: { type: permission, key: 'app/', rangeEnd: 'app0' },
    },
    { type: 'userAdd', name: 'alice', passwordHash: 'h' },
    { type: 'userGrantRole', name: 'alice', role },
  ];
}
