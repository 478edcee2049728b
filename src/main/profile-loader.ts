import { readFile } from 'node:fs/promises';
import { ErrorCode, StrataError } from '../shared/errors';
import { describeJsonError, parseProfile, type Profile } from '../shared/profile';

/** The reasons a profile file cannot be read, in words instead of errno codes. */
const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a folder, not a profile file',
  EACCES: 'permission denied (the file is not readable by this user)',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
};

/** Reads and validates a profile file; every problem names the field and the reason. */
export async function loadProfile(path: string | undefined): Promise<Profile> {
  if (!path) {
    throw new StrataError(ErrorCode.ProfileMissing, 'no cluster profile given: pass --profile FILE or set STRATA_PROFILE');
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new StrataError(ErrorCode.ProfileMissing, `cannot read profile ${path}: ${READ_FAILURES[(error as NodeJS.ErrnoException).code ?? ''] ?? (error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StrataError(ErrorCode.ProfileInvalid, `profile ${path} ${describeJsonError(text)}`);
  }
  const parsed = parseProfile(json);
  if (!parsed.ok) throw new StrataError(ErrorCode.ProfileInvalid, `profile ${path}: ${parsed.problems.join('; ')}`);
  return parsed.profile;
}
