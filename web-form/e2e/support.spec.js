import { expect, test } from '@playwright/test';
import { agentReplies, customer, docsScreenshot, fillForm, statusLink, ticketIdShown } from './helpers.js';

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
  await expect(page).toHaveURL(statusLink(ticketId));
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
    await expect(page.getByLabel(label, { exact: true })).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel(label, { exact: true })).toHaveAccessibleDescription(new RegExp(error));
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

test('a ticket number alone opens nothing; with the email it was opened with, it opens', async ({
  page,
  browser,
}) => {
  const who = customer('Dorothy Vaughan');
  await page.goto('/support');
  await fillForm(page, who);
  await page.getByRole('button', { name: 'Send request' }).click();
  const ticketId = await ticketIdShown(page);
  await expect(agentReplies(page.getByRole('article', { name: `Ticket ${ticketId}` }))).toHaveCount(1);

  // Another person, with only the number: the status page reads nothing and asks for the email.
  const stranger = await (await browser.newContext()).newPage();
  const reads = [];
  stranger.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/api/v1/tickets/')) reads.push(response.status());
  });
  await stranger.goto(`/support/tickets/${ticketId}`);
  await expect(stranger.getByRole('alert')).toHaveText(
    `Enter the email address you opened ${ticketId} with to see it.`,
  );
  await expect(stranger.getByRole('article')).toHaveCount(0);
  await expect(stranger.getByText(who.message)).toHaveCount(0);

  await stranger.getByLabel('Your email').fill('someone.else@example.com');
  await stranger.getByRole('button', { name: 'Check status' }).click();
  await expect(stranger.getByRole('alert')).toHaveText(
    `We found no ticket ${ticketId} opened with that email address. Check both and try again.`,
  );
  await expect(stranger.getByRole('article')).toHaveCount(0);
  expect(reads.every((status) => status === 404)).toBe(true);

  // The customer, on another device: the number and their email open it.
  await stranger.getByLabel('Your email').fill(who.email.toUpperCase());
  await stranger.getByRole('button', { name: 'Check status' }).click();
  const ticket = stranger.getByRole('article', { name: `Ticket ${ticketId}` });
  await expect(ticket.getByRole('listitem').filter({ hasText: who.message })).toBeVisible();
  await expect(agentReplies(ticket)).toHaveCount(1);
  await stranger.screenshot({ path: test.info().outputPath('check-a-ticket.png'), fullPage: true });
  await stranger.context().close();
});
