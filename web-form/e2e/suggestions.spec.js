import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { ADMIN_KEY, customer, docsScreenshot, fillForm, signIn, ticketIdShown } from './helpers.js';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Store a stalled-ticket firing for the ticket, as the triggers' sweep does (tests/e2e/seed_firing.py). */
function fire(ticketId, event) {
  return execFileSync(process.env.FTE_PYTHON ?? 'python3', ['-m', 'tests.e2e.seed_firing', ticketId, event], {
    cwd: ROOT,
    env: process.env,
    encoding: 'utf8',
  }).trim();
}

test('"What should I do next?": a stalled ticket becomes a ranked suggestion; edited and approved, it is done', async ({
  page,
  context,
  request,
}) => {
  expect(
    process.env.DATABASE_URL,
    'DATABASE_URL: the stack database (tests/e2e/test_browser.py)',
  ).toBeTruthy();
  const who = customer('Mary Winston Jackson');
  const customerPage = await context.newPage();
  await customerPage.goto('/support');
  await fillForm(customerPage, who);
  await customerPage.getByRole('button', { name: 'Send request' }).click();
  const ticketId = await ticketIdShown(customerPage);
  const firingId = fire(ticketId, 'resolution'); // the resolution time passed

  await signIn(page);
  await page.getByRole('button', { name: 'What should I do next?' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('What should I do next?');
  expect(page.url()).toMatch(/#suggestions$/);
  // The scheduler's pass turns the firing into a suggestion: a ticket change waits for a person.
  const card = page.getByRole('article', { name: new RegExp(`Raise ${ticketId} to high · ${who.name}`) });
  await expect(card).toBeVisible();
  await expect(card).toContainText('change ticket · stalled ticket · confidence 75%');
  await expect(card).toContainText('resolution due 3h ago (priority medium)');
  await expect(card.getByLabel('Score')).toContainText('urgency 0.60 (from the trigger)');
  await expect(card.getByLabel('Facts')).toContainText(`ticket number: ${ticketId}`);
  await expect(
    card.getByRole('table', { name: 'Preview of the change' }).getByRole('row', {
      name: `ticket ${ticketId} · priority medium high`,
    }),
  ).toBeVisible();
  await docsScreenshot(page, 'suggestions');
  await page.screenshot({ path: test.info().outputPath('suggestions.png'), fullPage: true });

  // A dismissal needs a reason; cancelled, then edited and approved.
  await card.getByRole('button', { name: 'Dismiss' }).click();
  await card.getByRole('button', { name: 'Dismiss suggestion' }).click();
  await expect(card.getByLabel('Why dismiss it?')).toHaveAccessibleDescription('Say why you dismiss it.');
  await card.getByRole('button', { name: 'Cancel' }).click();
  await card.getByRole('button', { name: 'Edit' }).click();
  await card.getByLabel('Priority').selectOption('urgent');
  await card.getByRole('button', { name: 'Approve edited' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'was edited, approved and done' })).toBeVisible();
  await expect(card).toHaveCount(0);

  // Done, with its diff in the audit trail: the ticket is urgent now.
  const feed = await (await request.get('/api/v1/admin/suggestions', { headers: admin })).json();
  expect(feed.suggestions.map((s) => s.firing_id)).not.toContain(firingId);
  const audit = await request.get('/api/v1/admin/audit/export?format=jsonl', { headers: admin });
  const rows = (await audit.text())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  const approved = rows.find(
    (row) => row.event_type === 'executed_action' && row.payload?.diff?.[0]?.target === `ticket ${ticketId}`,
  );
  expect(approved.policy_clause).toBe('SUGGESTION.approved');
  expect(approved.payload.diff).toEqual([
    { target: `ticket ${ticketId}`, field: 'priority', before: 'medium', after: 'urgent' },
  ]);
});
