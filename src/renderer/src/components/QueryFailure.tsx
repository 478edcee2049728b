import { Alert } from '@mantine/core';
import { failureText } from '../api/failure';

/** A failed poll: what could not be read and why; says so when older figures stay on screen. */
export function QueryFailure({ error, what, stale, testId }: { error: Error; what: string; stale: boolean; testId: string }) {
  const { title, message } = failureText(error, what);
  return (
    <Alert data-testid={testId} color="orange" variant="light" radius="md" title={`Cannot read ${what}: ${title}`}>
      {message}
      {stale ? ' The figures below are from the last successful read.' : ''}
    </Alert>
  );
}
