// The page served by a real member (`--enable-view`, /etcdlab/view/): it finds the other
// members from the member list by itself and shows all of them up with one leader; when the
// test kills one, the page shows it down within a deadline, and still one leader among the
// rest. No key or value written to the cluster ever reaches the page (frames from real members
// carry neither).
// Usage: node real.mjs <member url>/etcdlab/view/ <artifact dir> <members> <name to kill>
//                      <a key written> <its value>

import { run, until, members, leaders, ask, log } from './lib.mjs';

const SEE_MS = 15000; // real members: an election plus the page's polling or event stream

await run('real', async ({ page, url, args, shot }) => {
  const [n, victim, key, value] = [Number(args[0]), args[1], args[2], args[3]];
  await page.goto(url);
  await until(`${n} members up and exactly one leader`, async () => {
    const ms = await members(page);
    return ms.length === n && ms.every((m) => m.up) && leaders(ms).length === 1;
  }, SEE_MS);
  const source = await page.evaluate(() => window.etcdlabView.source);
  if (source !== 'real') {
    throw new Error(`window.etcdlabView.source is ${JSON.stringify(source)}, not "real"`);
  }
  await shot('real-up.png');

  // The page's ids are positions in the member list; the test knows members by name.
  const id = await until(`a member named ${victim} in the current frame`, async () =>
    page.evaluate((name) => {
      const node = window.etcdlabView.current().nodes.find((x) => x.name === name);
      return node && node.id;
    }, victim));
  log(`${victim} is member ${id}`);
  await ask(`kill ${victim}`);
  await until(`member ${id} (${victim}) shown down (data-up=false)`, async () =>
    (await members(page)).find((m) => m.id === id && !m.up), SEE_MS);
  await until(`one leader among the ${n - 1} members still up`, async () => {
    const ms = await members(page);
    const up = ms.filter((m) => m.up);
    return up.length === n - 1 && leaders(up).length === 1;
  }, SEE_MS);
  await shot('real-one-down.png');

  const leak = await page.evaluate(([k, v]) => {
    const all = JSON.stringify(window.etcdlabView.frames()) + document.body.innerText;
    return [k, v, btoa(k), btoa(v)].filter((s) => all.includes(s));
  }, [key, value]);
  if (leak.length) {
    throw new Error(`the page holds what was written to the cluster: ${leak.join(', ')}`);
  }
});
