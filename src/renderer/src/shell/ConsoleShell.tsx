import { AppShell, Badge, Group, NavLink, Stack, Text, Tooltip } from '@mantine/core';
import { PAGES, type ConsolePage } from '../pages';
import { FiringToasts } from '../pages/alerts/FiringToasts';
import { useAlertList } from '../pages/alerts/use-alerts';
import { PageErrorBoundary } from './ErrorBoundary';
import { pageHref, usePageRoute } from './use-page-route';

function StrataMark() {
  return (
    <svg width="22" height="22" viewBox="0 0 22 22" aria-hidden>
      <rect x="2" y="3" width="18" height="4" rx="1.5" fill="var(--mantine-color-blue-4)" />
      <rect x="2" y="9" width="18" height="4" rx="1.5" fill="var(--mantine-color-blue-6)" />
      <rect x="2" y="15" width="18" height="4" rx="1.5" fill="var(--mantine-color-blue-8)" />
    </svg>
  );
}

const HOST_HINT = {
  desktop: 'The Strata desktop app: this window talks to its own main process.',
  browser: 'Served to this browser by `strata console` on 127.0.0.1 with a one-time token, for demos and tests; it does what the desktop app does.',
} as const;

function sections(pages: readonly ConsolePage[]): Array<[string, ConsolePage[]]> {
  const grouped = new Map<string, ConsolePage[]>();
  for (const page of pages) grouped.set(page.section, [...(grouped.get(page.section) ?? []), page]);
  return [...grouped];
}

function FiringCount({ firing }: { firing: number }) {
  if (firing === 0) return null;
  return (
    <Badge size="sm" color="red" variant="filled" circle={firing < 10} data-testid="nav-alerts-firing" title={`${firing} firing`}>
      {firing}
    </Badge>
  );
}

/** Header, navigation built from PAGES, and the current page. `host` says where the console runs. */
export function ConsoleShell({ host }: { host: 'desktop' | 'browser' }) {
  const current = usePageRoute(PAGES);
  const Page = current.component;
  // On every page: the count of firing alerts beside the Alerts entry.
  const alerts = useAlertList();
  const firing = alerts.data?.firing ?? 0;
  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 232, breakpoint: 0 }} padding="lg">
      <AppShell.Header px="md">
        <Group h="100%" justify="space-between">
          <Group gap={10}>
            <StrataMark />
            <Text fw={700} size="lg" lts={0.5}>
              Strata
            </Text>
            <Text size="sm" c="dimmed">
              operations console
            </Text>
          </Group>
          <Tooltip label={HOST_HINT[host]} multiline w={340} position="bottom-end" openDelay={200}>
            <Badge variant="outline" color="gray" tt="none" radius="sm" data-testid="host-kind" style={{ cursor: 'help' }}>
              {host === 'desktop' ? 'desktop app' : 'browser · test web host'}
            </Badge>
          </Tooltip>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" data-testid="navigation">
        <Stack gap="md">
          {sections(PAGES).map(([section, pages]) => (
            <Stack key={section} gap={2}>
              <Text size="xs" c="dimmed" tt="uppercase" fw={600} lts={0.6} px="sm" pb={4}>
                {section}
              </Text>
              {pages.map((page) => (
                <NavLink
                  key={page.id}
                  href={pageHref(page)}
                  label={page.label}
                  active={page.id === current.id}
                  variant="light"
                  data-testid={`nav-${page.id}`}
                  {...(page.id === 'alerts' ? { 'data-firing': firing, rightSection: <FiringCount firing={firing} /> } : {})}
                  style={{ borderRadius: 'var(--mantine-radius-sm)' }}
                />
              ))}
            </Stack>
          ))}
        </Stack>
      </AppShell.Navbar>
      <AppShell.Main>
        <PageErrorBoundary key={current.id}>
          <Page />
        </PageErrorBoundary>
      </AppShell.Main>
      {host === 'browser' && <FiringToasts list={alerts.data} />}
    </AppShell>
  );
}
