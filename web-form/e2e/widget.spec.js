import { createServer } from 'node:http';
import { expect, test } from '@playwright/test';
import { agentReplies, customer, fillForm, statusLink, ticketIdShown } from './helpers.js';

/** Another site (another origin: its own port) whose help page embeds the form with one tag. */
function startShop(apiBase) {
  const page = `<!doctype html><html lang="en"><title>Shop help</title>
    <h1>Shop help</h1><div id="fte-support"></div>
    <script src="${apiBase}/widget.js"></script></html>`;
  const server = createServer((_, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(page);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

let shop;
test.beforeAll(async ({ baseURL }) => {
  shop = await startShop(baseURL);
});
test.afterAll(() => new Promise((resolve) => shop.close(resolve)));

test('widget.js on another site mounts the form, which talks to its own API', async ({ page, baseURL }) => {
  const shopUrl = `http://127.0.0.1:${shop.address().port}/help`;
  const apiOrigins = new Set();
  page.on('request', (request) => {
    if (request.url().includes('/api/v1/')) apiOrigins.add(new URL(request.url()).origin);
  });
  await page.goto(shopUrl);
  const widget = page.locator('#fte-support');
  await expect(widget.getByRole('heading', { name: 'Contact support' })).toBeVisible();

  const who = customer('Mary Jackson');
  await fillForm(widget, who);
  await widget.getByRole('button', { name: 'Send request' }).click();
  const ticketId = await ticketIdShown(widget);
  const link = widget.getByRole('link', { name: `Open the status page of ${ticketId}` });
  await expect(link).toHaveAttribute('href', statusLink(ticketId));
  expect(await link.getAttribute('href')).toMatch(new RegExp(`^${baseURL}/support/tickets/`));
  const ticket = widget.getByRole('article', { name: `Ticket ${ticketId}` });
  await expect(agentReplies(ticket)).toHaveCount(1);
  expect([...apiOrigins]).toEqual([new URL(baseURL).origin]);
  expect(new URL(page.url()).origin).not.toBe(new URL(baseURL).origin);
  await page.screenshot({ path: test.info().outputPath('widget.png'), fullPage: true });
});
