import '@mantine/core/styles.css';
import '@mantine/dates/styles.css';
import './styles.css';
import { Alert, Center, MantineProvider } from '@mantine/core';
import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { StrataApiProvider } from './api/context';
import { createQueryClient } from './api/query-client';
import { findStrataApi } from './api/web-bridge';
import { ConsoleShell } from './shell/ConsoleShell';
import { theme } from './theme';

const api = findStrataApi();
const queryClient = createQueryClient();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="dark">
      {api ? (
        <StrataApiProvider api={api}>
          <QueryClientProvider client={queryClient}>
            <ConsoleShell host={window.strata ? 'desktop' : 'browser'} />
          </QueryClientProvider>
        </StrataApiProvider>
      ) : (
        <Center h="100vh">
          <Alert color="red" title="Not connected to Strata" maw={520}>
            This page needs the Strata desktop app, or the address printed by strata console (it carries the access token).
          </Alert>
        </Center>
      )}
    </MantineProvider>
  </StrictMode>,
);
