// What the specs share: a customer's details, filling the support form, signing in.
import { expect } from '@playwright/test';

export const ADMIN_KEY = process.env.FTE_ADMIN_KEY;

let counter = 0;

/** A new customer's request: unique name, email and subject, a question the docs answer. */
export function customer(label) {
  counter += 1;
  const tag = `${Date.now().toString(36)}${counter}`;
  return {
    name: `${label} ${tag}`,
    email: `e2e.${tag}@example.com`,
    subject: `Password reset ${tag}`,
    message: 'Hello, how do I reset my password? The reset email never arrives.',
  };
}

/** Fill the support form found in `scope` (a page, or the widget's host element). */
export async function fillForm(scope, who, { phone } = {}) {
  await scope.getByLabel('Name').fill(who.name);
  await scope.getByLabel('Email', { exact: true }).fill(who.email);
  if (phone) await scope.getByLabel('Phone').fill(phone);
  await scope.getByLabel('Subject').fill(who.subject);
  await scope.getByLabel('Category').selectOption('account');
  await scope.getByLabel('Priority').selectOption('medium');
  await scope.getByLabel('Message').fill(who.message);
}

/** The ticket id the success message shows. */
export async function ticketIdShown(scope) {
  await expect(scope.getByRole('heading', { name: 'Request received' })).toBeVisible();
  const sentence = await scope.getByText(/Your ticket number is/).textContent();
  return sentence.match(/TKT-\d+/)[0];
}

/** A status page link: the ticket's page, its access token in the fragment. */
export const statusLink = (ticketId) =>
  new RegExp(`/support/tickets/${ticketId}#token=tkt_[A-Za-z0-9_-]{43}$`);

/** The agent's messages in a ticket's conversation. */
export const agentReplies = (scope) =>
  scope
    .getByRole('list', { name: 'Conversation' })
    .getByRole('listitem')
    .filter({ hasText: /^Support ·/ });

/** Sign in to the console with the suite's admin key. */
export async function signIn(page) {
  await page.goto('/console');
  await page.getByLabel('Operator key').fill(ADMIN_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Autonomy Control Center' })).toBeVisible();
}

/** Where README screenshots go when FTE_DOCS_SCREENSHOTS names a folder (not on every run). */
export async function docsScreenshot(page, name) {
  const folder = process.env.FTE_DOCS_SCREENSHOTS;
  if (folder) await page.screenshot({ path: `${folder}/${name}.png`, fullPage: true });
}
