import { userInfo } from 'node:os';

/** The operating-system user for audit entries and `changed by`, also under a uid without a passwd entry. */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    // Containers may run as a uid without a passwd entry.
    return `uid${process.getuid?.() ?? '?'}`;
  }
}
