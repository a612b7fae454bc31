/**
 * The approval page in a real headless browser (Debian's chromium driven by playwright-core): the person
 * reads what the agent wants, signs in by pasting a token, clicks Approve, and the approval the page shows
 * lets the call through. Skipped, saying why, where playwright-core or the browser is not installed; the
 * same page is tested over plain HTTP in approvals.test.ts regardless.
 */
import * as fs from 'fs';
import { startApprovalPdp, decide, refundBody, type ApprovalPdp } from '../helpers/approval-pdp';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function loadPlaywright(): any {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('playwright-core');
  } catch {
    return undefined;
  }
}

const playwright = loadPlaywright();
const missing = !playwright ? 'playwright-core is not installed (npm i -D playwright-core)' : !fs.existsSync(CHROMIUM) ? `no browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` : undefined;
if (missing) process.stderr.write(`approval page browser test skipped: ${missing}\n`);

(missing ? describe.skip : describe)('the approval page in a headless browser', () => {
  let p: ApprovalPdp;
  let browser: any;

  beforeAll(async () => {
    p = await startApprovalPdp();
    browser = await playwright.chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await p?.close();
  });

  test('the person sees the call, signs in, approves; the approval shown lets exactly that call through', async () => {
    const d = await decide(p, refundBody(p, 150));
    expect(d.reasons[0].code).toBe('approval.required');
    const page = await browser.newPage();
    await page.goto(d.approval_request.url);
    expect(await page.textContent('#tool')).toContain('billing/refunds.create');
    expect(JSON.parse(await page.textContent('#parameters'))).toEqual({ customer_id: 'c-1001', amount: 150, currency: 'EUR' });
    expect(await page.textContent('#summary')).toContain('amount=150 is above the approval threshold of 100');
    expect(await page.textContent('#user')).toBe('u-bob');
    await page.fill('#id_token', await p.signIn());
    await page.click('#approve');
    await page.waitForSelector('#outcome');
    expect(await page.textContent('#outcome')).toContain('You approved this action');
    const token = await page.inputValue('#approval-token');
    await page.close();
    expect((await decide(p, refundBody(p, 150, { approval: { token } }))).allow).toBe(true);
    expect((await decide(p, refundBody(p, 151, { approval: { token } }))).allow).toBe(false);
  });

  test('another person signed in gets no approval; reject signs nothing', async () => {
    const d = await decide(p, refundBody(p, 150));
    const page = await browser.newPage();
    await page.goto(d.approval_request.url);
    await page.fill('#id_token', await p.idpToken({ sub: 'u-alice' }));
    await page.click('#approve');
    await page.waitForSelector('#error');
    expect(await page.textContent('#error')).toContain('only u-bob can decide');
    expect(await page.$('#approval-token')).toBeNull();
    await page.goto(d.approval_request.url);
    await page.fill('#id_token', await p.signIn());
    await page.click('#reject');
    await page.waitForSelector('#outcome');
    expect(await page.textContent('#outcome')).toContain('You rejected this action');
    expect(await page.$('#approval-token')).toBeNull();
    await page.close();
  });
});
