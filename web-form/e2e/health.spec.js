import { expect, test } from '@playwright/test';
import { agentReplies, customer, docsScreenshot, fillForm, ticketIdShown } from './helpers.js';

// The console link `fte up` printed (tests/e2e/test_browser.py passes it on).
const CONSOLE_LINK = process.env.FTE_CONSOLE_LINK;

test("fte up's console link signs in with one click, once; Health charts the traffic and the alert it raised", async ({
  page,
  context,
}) => {
  expect(CONSOLE_LINK, 'FTE_CONSOLE_LINK: the console link of the banner').toMatch(
    /\/console#token=[A-Za-z0-9_-]+$/,
  );
  // Two refund requests (each escalates) and a question: over 25% of the hour's messages
  // escalated, which the scheduler's threshold check records (every 2 s in this stack).
  const refund = 'I was charged twice this month and I want a refund.';
  const asks = [
    { ...customer('Mary Jackson'), message: refund },
    { ...customer('Christine Darden'), message: refund },
    customer('Katherine Johnson'),
  ];
  let customerPage;
  for (const who of asks) {
    customerPage = await context.newPage();
    await customerPage.goto('/support');
    await fillForm(customerPage, who);
    await customerPage.getByRole('button', { name: 'Send request' }).click();
    await ticketIdShown(customerPage);
  }
  await expect(agentReplies(customerPage)).toHaveCount(1); // the question, answered on its own

  await page.goto(CONSOLE_LINK);
  await expect(page.getByRole('heading', { name: 'Autonomy Control Center' })).toBeVisible();
  await expect(page.getByText(/local console \(fte up\)/)).toBeVisible();
  expect(page.url()).not.toContain('token=');

  await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Health' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Health');
  const channels = page.getByRole('region', { name: 'Channels' });
  await expect(channels.getByRole('row', { name: /^Web form [1-9]/ })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Open alerts' }).getByRole('listitem').first()).toBeVisible();
  await expect(page.getByRole('region', { name: 'Open alerts' })).toContainText(
    /critical web_form: \d+% of \d+ messages escalated in the last 1 h \(threshold 25%\)/,
  );
  const charts = page.getByRole('figure');
  await expect(charts).toHaveCount(5);
  for (const chart of await charts.all()) {
    await expect(chart.getByRole('application')).toBeVisible(); // the chart's own svg
  }
  await expect(
    page.getByRole('figure', { name: 'First response p95 per channel (s)' }).locator('.recharts-line-dot'),
  ).not.toHaveCount(0);
  await docsScreenshot(page, 'health');
  await page.screenshot({ path: test.info().outputPath('health.png'), fullPage: true });

  // Once only: the same link in another tab signs nobody in.
  const again = await context.newPage();
  await again.goto(CONSOLE_LINK);
  await expect(again.getByRole('status')).toHaveText(/used already or has expired/);
  await expect(again.getByLabel('Operator key')).toBeVisible();
});
