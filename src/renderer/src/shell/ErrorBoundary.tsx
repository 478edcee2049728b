import { Alert } from '@mantine/core';
import { Component, type ReactNode } from 'react';

interface State {
  message?: string;
}

/** Keeps one broken page from blanking the console; shows the message, never the stack. */
export class PageErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = {};

  static getDerivedStateFromError(error: unknown): State {
    return { message: error instanceof Error ? error.message : String(error) };
  }

  override render() {
    if (this.state.message === undefined) return this.props.children;
    return (
      <Alert color="red" title="This page failed to display" data-testid="page-error">
        {this.state.message}
      </Alert>
    );
  }
}
