import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import {
  ADMIN_KEY,
  agentReplies,
  customer,
  docsScreenshot,
  fillForm,
  signIn,
  ticketIdShown,
} from './helpers.js';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };

// The suite shares one tenant with the support tests: put back what these tests change.
test.afterEach(async ({ request }) => {
  await request.put('/api/v1/admin/autonomy', { headers: admin, data: { mode: 'autopilot' } });
  await request.post('/api/v1/admin/kill-switch', {
    headers: admin,
    data: { engaged: false, reason: 'e2e: back to the demo settings' },
  });
});

/** Submit a support request in its own tab, as the customer would; return its ticket id. */
async function customerAsks(context, who) {
  const page = await context.newPage();
  await page.goto('/support');
  await fillForm(page, who);
  await page.getByRole('button', { name: 'Send request' }).click();
  return { page, ticketId: await ticketIdShown(page) };
}

const panel = (page, title) => page.getByRole('region', { name: title });

test('a wrong key is refused, the right one is kept for this tab only, sign out forgets it', async ({
  page,
}) => {
  await page.goto('/console');
  await page.getByLabel('Operator key').fill('fte_not_a_real_key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByLabel('Operator key')).toHaveAccessibleDescription(/not accepted/);

  await signIn(page);
  await expect(page.getByText(/Tenant techcorp/)).toBeVisible();
  const stored = await page.evaluate(() => ({
    session: Object.values(sessionStorage).join(' '),
    local: localStorage.length,
  }));
  expect(stored.session).toContain(ADMIN_KEY);
  expect(stored.local).toBe(0);
  expect(page.url()).not.toContain(ADMIN_KEY);

  await page.reload(); // still signed in: the tab keeps its session
  await expect(page.getByRole('heading', { name: 'Autonomy Control Center' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByLabel('Operator key')).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
});

test('hands-off per customer, the kill switch, and the audit export that records them', async ({
  page,
  context,
}) => {
  const who = customer('Annie Easley');
  const { page: customerPage } = await customerAsks(context, who);
  await expect(agentReplies(customerPage)).toHaveCount(1); // autopilot answered on its own
  await signIn(page);
  const timeline = panel(page, 'What autopilot did');
  await expect(
    timeline
      .getByRole('listitem')
      .filter({ hasText: /^Autopilot send reply/ })
      .first(),
  ).toBeVisible();

  const customers = panel(page, 'Customers');
  await customers.getByLabel('Find a customer').fill(who.email);
  await customers.getByRole('button', { name: 'Search' }).click();
  const handsOff = customers.getByRole('switch', { name: `Hands-off for ${who.name}` });
  await expect(handsOff).toHaveAttribute('aria-checked', 'true'); // the demo opts new customers in
  await handsOff.click();
  await expect(handsOff).toHaveAttribute('aria-checked', 'false');
  await page.reload(); // it is stored, not just shown
  await customers.getByLabel('Find a customer').fill(who.email);
  await customers.getByRole('button', { name: 'Search' }).click();
  await expect(handsOff).toHaveAttribute('aria-checked', 'false');
  await handsOff.press('Enter'); // and by keyboard
  await expect(handsOff).toHaveAttribute('aria-checked', 'true');

  const killSwitch = panel(page, 'Kill switch');
  await killSwitch.getByRole('button', { name: 'Engage kill switch' }).click();
  await expect(killSwitch.getByLabel('Reason')).toHaveAccessibleDescription(/Give a reason/);
  await killSwitch.getByLabel('Reason').fill('e2e drill');
  await killSwitch.getByRole('button', { name: 'Engage kill switch' }).click();
  await expect(killSwitch.getByRole('status')).toContainText('Engaged');
  await expect(panel(page, 'Autonomy mode').getByRole('status')).toHaveText(
    /Autonomy is off: this tenant's kill switch/,
  );
  await page.screenshot({ path: test.info().outputPath('kill-switch.png'), fullPage: true });
  await killSwitch.getByLabel('Reason').fill('e2e drill over');
  await killSwitch.getByRole('button', { name: 'Release kill switch' }).click();
  await expect(killSwitch.getByRole('status')).toContainText('Released');
  await expect(timeline).toContainText('engage tenant kill switch');

  const audit = panel(page, 'Audit export');
  await audit.getByLabel('Format').selectOption('jsonl');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    audit.getByRole('button', { name: 'Download audit' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('care-audit-techcorp.jsonl');
  const saved = test.info().outputPath('care-audit-techcorp.jsonl');
  await download.saveAs(saved);
  const rows = (await readFile(saved, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  const actions = rows.map((row) => row.payload?.action);
  expect(actions).toContain('engage_tenant_kill_switch');
  expect(actions).toContain('release_tenant_kill_switch');
  expect(actions).toContain('set_hands_off');
  expect(rows.find((row) => row.payload?.action === 'engage_tenant_kill_switch').reason).toBe('e2e drill');
});

test('in approve mode a draft waits in "Needs your input"; approved, the customer sees it', async ({
  page,
  context,
}) => {
  await signIn(page);
  const mode = panel(page, 'Autonomy mode');
  await mode.getByRole('radio', { name: 'Approve' }).check();
  await mode.getByRole('button', { name: 'Save mode' }).click();
  await expect(mode.getByRole('status')).toHaveText(
    'Autonomy is off: in approve mode a person decides every reply',
  );

  const who = customer('Dorothy Vaughan');
  const { page: customerPage, ticketId } = await customerAsks(context, who);

  const card = panel(page, /^Needs your input/).getByRole('article', { name: new RegExp(who.name) });
  await expect(card).toBeVisible();
  await expect(card).toContainText(ticketId);
  await expect(card.getByRole('blockquote', { name: 'The customer wrote' })).toHaveText(who.message);
  const draft = await card.getByLabel('Draft reply').textContent();
  expect(draft).toMatch(/password/i);
  await docsScreenshot(page, 'console');
  await page.screenshot({ path: test.info().outputPath('needs-your-input.png'), fullPage: true });

  // Held: the customer sees nothing yet.
  await customerPage.getByRole('link', { name: `Open the status page of ${ticketId}` }).click();
  const ticket = customerPage.getByRole('article', { name: `Ticket ${ticketId}` });
  await expect(ticket.getByRole('status')).toHaveText(/Waiting for a reply/);
  await expect(agentReplies(ticket)).toHaveCount(0);

  await card.getByRole('button', { name: 'Approve and send' }).click();
  await expect(panel(page, /^Needs your input/).getByRole('status')).toHaveText(
    `The reply to ${who.name} was approved and sent.`,
  );
  await expect(card).toHaveCount(0);
  await expect(agentReplies(ticket)).toHaveCount(1);
  await expect(agentReplies(ticket)).toContainText(draft.trim());
  const newest = panel(page, 'What autopilot did').getByRole('listitem').first();
  await expect(newest).toContainText('send reply');
  await expect(newest).toContainText('approved by operator:');
  await customerPage.screenshot({ path: test.info().outputPath('approved-reply.png'), fullPage: true });
});
