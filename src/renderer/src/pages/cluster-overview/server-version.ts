/** "10.11.6-MariaDB-0+deb12u1" → "MariaDB 10.11.6"; the full string stays available as a tooltip. */
export function shortServerVersion(version: string | undefined): string {
  if (!version) return '—';
  const number = /^\d+\.\d+\.\d+/.exec(version)?.[0];
  if (!number) return version;
  return /mariadb/i.test(version) ? `MariaDB ${number}` : `MySQL ${number}`;
}
