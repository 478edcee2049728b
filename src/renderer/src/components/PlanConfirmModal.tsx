import { Button, Center, Group, Loader, Modal, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { failureText } from '../api/failure';

interface PlanConfirmModalProps {
  opened: boolean;
  title: string;
  /** Prefix of every test id: `<id>`, `<id>-refusal`, `<id>-cancel`, `<id>-<confirmId>`. */
  testId: string;
  /** What the plan is called in an error heading: `the dry run`. */
  planName: string;
  planReady: boolean;
  planError: Error | null;
  confirmLabel: string;
  confirmId: string;
  confirmColor?: string;
  /** False when the fresh plan has nothing to do. */
  canConfirm: boolean;
  onClose(): void;
  onConfirm(): void;
  /** The plan in words, shown once it is ready. */
  children: ReactNode;
}

/**
 * Asks before anything changes, showing a plan made when the dialog opened: a spinner while it is made, the refusal
 * when it could not be, and a confirm button that stays off when there is nothing to do.
 */
export function PlanConfirmModal(props: PlanConfirmModalProps) {
  const { opened, title, testId, planName, planReady, planError, onClose, onConfirm } = props;
  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={700}>{title}</Text>} centered size="lg" data-testid={testId}>
      <Stack gap="md">
        {planError && (
          <Text size="sm" c="red.4" data-testid={`${testId}-refusal`}>
            {failureText(planError, planName).line}
          </Text>
        )}
        {!planReady && !planError && (
          <Center h={80}>
            <Loader size="sm" />
          </Center>
        )}
        {planReady && props.children}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-testid={`${testId}-cancel`}>
            Not now
          </Button>
          <Button color={props.confirmColor} disabled={!props.canConfirm} onClick={onConfirm} data-testid={`${testId}-${props.confirmId}`}>
            {props.confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
