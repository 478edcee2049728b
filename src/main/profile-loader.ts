import { readFile } from 'node:fs/promises';
import { ErrorCode, StrataError } from '../shared/errors';
import { parseProfile, type Profile } from '../shared/profile';

/** Reads and validates a profile file; every problem names the field and the reason. */
export async function loadProfile(path: string | undefined): Promise<Profile> {
  if (!path) {
    throw new StrataError(ErrorCode.ProfileMissing, 'no cluster profile given: pass --profile FILE or set STRATA_PROFILE');
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StrataError(ErrorCode.ProfileMissing, `cannot read profile ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StrataError(ErrorCode.ProfileInvalid, `profile ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = parseProfile(json);
  if (!parsed.ok) throw new StrataError(ErrorCode.ProfileInvalid, `profile ${path}: ${parsed.problems.join('; ')}`);
  return parsed.profile;
}
