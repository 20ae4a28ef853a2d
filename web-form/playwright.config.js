// End-to-end tests in Debian's Chromium against a running stack. tests/e2e/test_browser.py
// starts `fte up`, creates an operator key and runs this suite with BASE_URL and FTE_ADMIN_KEY;
// by hand: BASE_URL=http://127.0.0.1:8000 FTE_ADMIN_KEY=fte_... npm run e2e (it changes the
// tenant's settings while it runs, so use a scratch stack).
import { defineConfig } from '@playwright/test';

if (!process.env.BASE_URL || !process.env.FTE_ADMIN_KEY) {
  throw new Error(
    'BASE_URL and FTE_ADMIN_KEY are not set: run `.venv/bin/python -m pytest tests/e2e/test_browser.py` ' +
      '(it starts the stack), or set them to a running stack and an admin key of its techcorp tenant.',
  );
}

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  // One stack, one tenant: the console tests change its mode and kill switch, so one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 30_000 }, // the agent's reply on two busy cores
  reporter: [['list']],
  use: {
    baseURL: process.env.BASE_URL,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    acceptDownloads: true,
    screenshot: 'on',
    trace: 'retain-on-failure',
  },
});
