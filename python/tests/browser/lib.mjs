// What the browser scripts share: one chromium (Debian's, driven by playwright-core), one page,
// waits that poll with a deadline, and on failure a dump of what the page showed.
//
// A script is `node <script>.mjs <url> <artifact dir> [args...]` (test_view_browser.py runs
// it). It prints one line per step, `PASS` at the end, or `FAIL <why>` followed by the page's
// #status, #event, #frame-index and every member's data attributes, and saves
// <artifact dir>/<name>-failure.png. A step that needs the test's help (kill a member) prints
// `ASK <what>` and waits for a line on stdin.

import { chromium } from 'playwright-core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

export const CHROMIUM = '/usr/bin/chromium';

// Runs `body({page, url, artifacts, args, shot, view})` in a fresh page of one chromium.
export async function run(name, body) {
  const [url, artifacts, ...args] = process.argv.slice(2);
  if (!url || !artifacts) {
    console.log(`usage: node ${name}.mjs <url> <artifact dir> [args...]`);
    process.exit(2);
  }
  fs.mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  let failed = false;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
    page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') console.log(`page console: ${m.text()}`);
    });
    const shot = async (file) => {
      const where = path.join(artifacts, file);
      await page.screenshot({ path: where });
      console.log(`screenshot ${where}`);
    };
    // ctx.view: the document a failure reports on, when not the page's own (an iframe).
    const ctx = { page, url, artifacts, args, shot, view: null };
    try {
      await body(ctx);
    } catch (e) {
      failed = true;
      console.log(`FAIL ${e.message}`);
      await dump(page, path.join(artifacts, `${name}-failure.png`), ctx.view || page);
    }
  } finally {
    await browser.close();
  }
  console.log(failed ? 'FAILED' : 'PASS');
  process.exit(failed ? 1 : 0);
}

// What the page (or `view`, an iframe in it) shows now, for a failure report.
export async function dump(page, screenshot, view = page) {
  try {
    const shown = await view.evaluate(() => {
      const text = (sel) => {
        const e = document.querySelector(sel);
        return e ? e.textContent.trim() : '(absent)';
      };
      return {
        status: text('#status'), event: text('#event'), frame: text('#frame-index'),
        members: [...document.querySelectorAll('[data-member]')].map((e) => {
          const d = e.dataset;
          return `${d.member}: role=${d.role} term=${d.term} up=${d.up} leader=${d.leader}`;
        }),
      };
    });
    console.log(`page: url ${view.url()}`);
    console.log(`page: #status ${JSON.stringify(shown.status)}`);
    console.log(`page: #event ${JSON.stringify(shown.event)}`);
    console.log(`page: #frame-index ${JSON.stringify(shown.frame)}`);
    console.log(`page: ${shown.members.length} members`);
    for (const m of shown.members) console.log(`page:   ${m}`);
  } catch (e) {
    console.log(`page: could not be read (${e.message})`);
  }
  try {
    await page.screenshot({ path: screenshot });
    console.log(`screenshot ${screenshot}`);
  } catch (e) {
    console.log(`screenshot failed: ${e.message}`);
  }
}

// Polls `check()` (an async function; done when it returns something truthy, which is
// returned) every 100 ms until `ms`, then throws naming `what` and the last value seen.
export async function until(what, check, ms = 10000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await check();
    if (last && !(Array.isArray(last) && last.length === 0)) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what} ` +
                      `(last seen: ${JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Every member as the page shows it: {id, role, term, up, leader} from its data attributes.
export async function members(page) {
  return page.$$eval('[data-member]', (els) => els.map((e) => ({
    id: Number(e.dataset.member), role: e.dataset.role, term: Number(e.dataset.term),
    up: e.dataset.up === 'true', leader: e.dataset.leader === 'true',
  })));
}

export const leaders = (ms) => ms.filter((m) => m.leader);

export async function text(page, selector) {
  const e = await page.$(selector);
  return e ? (await e.textContent()).trim() : null;
}

// Asks the test for something (a line `ASK <what>`) and waits for its answer on stdin.
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
export async function ask(what) {
  console.log(`ASK ${what}`);
  const { value, done } = await lines.next();
  if (done) throw new Error(`the test closed stdin instead of answering "${what}"`);
  return value.trim();
}

// Sets an <input> (text, number or range) as a user would leave it: value, input, change.
export async function setInput(page, selector, value) {
  await page.$eval(selector, (e, v) => {
    e.value = String(v);
    e.dispatchEvent(new Event('input', { bubbles: true }));
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

export function log(line) {
  console.log(line);
}
