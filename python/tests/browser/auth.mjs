// The page served by a member with auth on: without credentials it shows why it sees nothing
// (the 401 answer's reason, in #status) and no member; with the root user's name and password
// in its boxes it gets a token (/v3/auth/authenticate) and shows every member up, one leader.
// Usage: node auth.mjs <member url>/etcdlab/view/ <artifact dir> <members> <user> <password>
//                      <the reason a request without a token gets>

import { run, until, members, leaders, text, setInput, log } from './lib.mjs';

const SEE_MS = 15000;

await run('auth', async ({ page, url, args, shot }) => {
  const [n, user, password, reason] = [Number(args[0]), args[1], args[2], args[3]];
  await page.goto(url);
  const status = await until(`#status to show the refusal ("${reason}")`, async () => {
    const s = await text(page, '#status');
    return s && s.includes(reason) && s;
  }, SEE_MS);
  log(`without credentials: #status ${JSON.stringify(status)}`);
  const shown = (await members(page)).filter((m) => m.up);
  if (shown.length) {
    throw new Error(`members shown up without credentials: ${JSON.stringify(shown)}`);
  }
  await shot('auth-refused.png');

  // The user and password boxes are in the Source panel: open it if it is folded.
  if (!(await page.isVisible('#connect'))) await page.click('#source-panel > summary');
  await setInput(page, '#view-user', user);
  await setInput(page, '#view-password', password);
  await page.click('#connect');
  await until(`${n} members up and one leader after signing in as ${user}`, async () => {
    const ms = await members(page);
    return ms.length === n && ms.every((m) => m.up) && leaders(ms).length === 1;
  }, SEE_MS);
  const after = await text(page, '#status');
  if (after.includes(reason)) {
    throw new Error(`#status still shows the refusal after signing in: ${after}`);
  }
  await shot('auth-signed-in.png');
});
