import { expect, test } from '@playwright/test';
import { agentReplies, customer, docsScreenshot, fillForm, signIn, ticketIdShown } from './helpers.js';

const panel = (page, title) => page.getByRole('region', { name: title });

test("a customer's health: the score the scheduler stored, its breakdown and the score over time", async ({
  page,
  context,
}) => {
  const who = customer('Dorothy Vaughan');
  const customerPage = await context.newPage();
  await customerPage.goto('/support');
  await fillForm(customerPage, who);
  await customerPage.getByRole('button', { name: 'Send request' }).click();
  await ticketIdShown(customerPage);
  await expect(agentReplies(customerPage)).toHaveCount(1);

  await signIn(page);
  const customers = panel(page, 'Customers');
  const health = panel(page, `Health of ${who.name}`);
  // The scheduler's signal pass scores the customer its message marked; until then the panel
  // says the score was computed on the spot. Reopen it until the stored one is there.
  await expect(async () => {
    await customers.getByLabel('Find a customer').fill(who.email);
    await customers.getByRole('button', { name: 'Search' }).click();
    await customers.getByRole('button', { name: `Health of ${who.name}` }).click();
    await expect(health).toContainText(/ scored \d/, { timeout: 2_000 }); // not "not scored by a sweep yet"
  }).toPass({ timeout: 90_000 });
  await expect(health).toContainText(/\d+ \/ 100 · (poor|average|good)/);
  await expect(health).toContainText(/Churn risk \d+%/);
  await expect(health.getByRole('list', { name: 'Score breakdown' }).getByRole('listitem')).toHaveCount(7);
  await expect(health.getByRole('figure', { name: 'Health score over time' })).toBeVisible();
  await docsScreenshot(page, 'customer-health');
  await page.screenshot({ path: test.info().outputPath('customer-health.png'), fullPage: true });
});
