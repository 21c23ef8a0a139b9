// The API's documentation page (/api/docs/): Swagger UI, served from this origin, renders the
// OpenAPI document under the service's Content-Security-Policy (no inline script, no other
// origin), in a French page.
import { expect, test } from '@playwright/test';

test('the documentation page shows every group of operations, within the security policy', async ({ page }) => {
  const violations: string[] = [];
  const elsewhere: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      violations.push(message.text());
    }
  });
  const origin = new URL(process.env.GUICHET_E2E_URL!).origin;
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin !== origin && url.protocol !== 'data:') {
      elsewhere.push(request.url());
    }
  });
  await page.goto('/api/docs/');
  await expect(page).toHaveTitle("Guichet — documentation de l'API");
  await expect(page.locator('html')).toHaveAttribute('lang', 'fr');
  await expect(page.getByRole('heading', { level: 1, name: "Documentation de l'API Guichet" })).toBeVisible();
  // Swagger UI has rendered the document: its title, the tags and an operation.
  await expect(page.locator('.swagger-ui .info .title')).toContainText('Guichet');
  for (const tag of ['catalogue', 'signalements', 'agents', 'administration']) {
    await expect(page.locator(`.opblock-tag[data-tag="${tag}"]`)).toBeVisible();
  }
  await expect(page.locator('.opblock-summary-path[data-path="/api/v1/reports"]').first()).toBeVisible();
  // The schemes to authorise with.
  await expect(page.locator('.btn.authorize')).toBeVisible();
  expect(violations).toEqual([]);
  expect(elsewhere).toEqual([]);
});
