import { expect, test } from '@playwright/test';
import { agentReplies, customer, docsScreenshot, fillForm, ticketIdShown } from './helpers.js';

const FORM_API = '/api/v1/support/form';

/** Every submission the page sends, as it is sent. */
function recordSubmissions(page) {
  const sent = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === FORM_API) sent.push(request);
  });
  return sent;
}

test('a request gets its ticket id, then the agent reply appears on its status page', async ({ page }) => {
  const who = customer('Ada Lovelace');
  await page.goto('/support');
  await expect(page.getByRole('heading', { name: 'Contact support' })).toBeVisible();
  await fillForm(page, who);
  await docsScreenshot(page, 'support');
  await page.getByRole('button', { name: 'Send request' }).click();

  const ticketId = await ticketIdShown(page);
  await page.getByRole('link', { name: `Open the status page of ${ticketId}` }).click();
  await expect(page).toHaveURL(new RegExp(`/support/tickets/${ticketId}$`));
  const ticket = page.getByRole('article', { name: `Ticket ${ticketId}` });
  await expect(ticket.getByRole('heading')).toHaveText(`${ticketId}: ${who.subject}`);
  await expect(ticket.getByRole('listitem').filter({ hasText: who.message })).toBeVisible();
  await expect(agentReplies(ticket)).toHaveCount(1);
  await expect(agentReplies(ticket)).toContainText(/password/i);
  await expect(ticket.getByRole('status')).toHaveText('');
  await page.screenshot({ path: test.info().outputPath('status-page.png'), fullPage: true });
});

test('invalid fields show their errors: first the browser checks, then the server', async ({ page }) => {
  const sent = recordSubmissions(page);
  await page.goto('/support');
  await page.getByLabel('Subject').fill('Hey');
  await page.getByRole('button', { name: 'Send request' }).click();

  await expect(page.getByLabel('Name')).toBeFocused();
  for (const [label, error] of [
    ['Name', 'Your name must be at least 2 characters.'],
    ['Email', 'Enter a valid email address'],
    ['Subject', 'The subject must be at least 5 characters.'],
    ['Message', 'The message must be at least 10 characters.'],
  ]) {
    await expect(page.getByLabel(label)).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel(label)).toHaveAccessibleDescription(new RegExp(error));
  }
  expect(sent).toHaveLength(0);
  await page.screenshot({ path: test.info().outputPath('client-errors.png'), fullPage: true });

  // A number that looks right but does not exist: only the server can tell.
  await fillForm(page, customer('Grace Hopper'), { phone: '+1 000 000 0000' });
  await expect(page.getByLabel('Name')).not.toHaveAttribute('aria-invalid');
  const answer = page.waitForResponse((response) => new URL(response.url()).pathname === FORM_API);
  await page.getByRole('button', { name: 'Send request' }).click();
  expect((await answer).status()).toBe(422);
  await expect(page.getByLabel('Phone')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Phone')).toHaveAccessibleDescription(/not a valid phone number/);
  await expect(page.getByLabel('Phone')).toBeFocused();
  await expect(
    page.getByRole('alert').filter({ hasText: 'Please correct the highlighted fields.' }),
  ).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('server-error.png'), fullPage: true });

  await page.getByLabel('Phone').fill('+14155550100');
  await page.getByRole('button', { name: 'Send request' }).click();
  await ticketIdShown(page);
  expect(sent).toHaveLength(2);
});

test('a double click on send is one request and one ticket', async ({ page }) => {
  const sent = recordSubmissions(page);
  await page.goto('/support');
  await fillForm(page, customer('Katherine Johnson'));
  const button = page.getByRole('button', { name: 'Send request' });
  await expect(button).toBeEnabled();
  // Two clicks in the same task: no render can happen between them.
  await button.evaluate((element) => {
    element.click();
    element.click();
  });
  await ticketIdShown(page);
  expect(sent).toHaveLength(1);
  expect(sent[0].headers()['idempotency-key']).toMatch(/^web-[0-9a-f]{32}$/);
});
