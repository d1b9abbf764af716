// The page on a saved recording (`python -m etcdlab.view --trace FILE`): the controls that
// change a run are hidden (a recording cannot be changed), and dragging the time slider
// replays it: the frame index and the picture follow the slider (the first frames have no
// leader yet, the last one has).
// Usage: node trace.mjs <view url> <artifact dir> <frames in the file> <nodes>

import { run, until, members, leaders, text, log } from './lib.mjs';

const CONTROLS = ['#play', '#step', '#partition', '#heal', '#propose', '#drop', '#isolate-leader',
  '[data-action="crash"]', '[data-action="restart"]'];

// Drags the slider's thumb with the mouse to `fraction` (0 = left end, 1 = right end).
async function drag(page, fraction) {
  const box = await (await page.$('#slider')).boundingBox();
  const value = await page.$eval('#slider', (e) => ({ v: +e.value, min: +e.min, max: +e.max }));
  const at = (f) => box.x + 8 + f * (box.width - 16); // the thumb's centre is inset
  const from = (value.v - value.min) / Math.max(1, value.max - value.min);
  await page.mouse.move(at(from), box.y + box.height / 2);
  await page.mouse.down();
  for (const step of [0.25, 0.5, 0.75, 1]) {
    await page.mouse.move(at(from + (fraction - from) * step), box.y + box.height / 2);
  }
  await page.mouse.up();
}

const index = async (page) => {
  const t = await text(page, '#frame-index');
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(t || '');
  return m ? { k: Number(m[1]), n: Number(m[2]), text: t } : null;
};

await run('trace', async ({ page, url, args, shot }) => {
  const frames = Number(args[0]);
  const n = Number(args[1]);
  await page.goto(url);
  await until(`${n} members on the page`, async () => (await members(page)).length === n);
  const source = await page.evaluate(() => window.etcdlabView.source);
  if (source !== 'trace') throw new Error(`window.etcdlabView.source is ${JSON.stringify(source)}, not "trace"`);
  const loaded = await until(`all ${frames} frames loaded`,
    async () => page.evaluate((f) => window.etcdlabView.frames().length === f && window.etcdlabView.frames().length, frames));
  log(`${loaded} frames`);

  for (const control of CONTROLS) {
    for (const e of await page.$$(control)) {
      if (await e.isVisible()) throw new Error(`${control} is shown in trace mode (a recording has no controls)`);
    }
  }

  const end = await until('#frame-index as "k / n" with n = the frames', async () => {
    const i = await index(page);
    return i && i.n === frames && i;
  });
  log(`at ${end.text}`);
  await until('a leader in the last frame', async () => leaders(await members(page)));
  const eventAtEnd = await text(page, '#event');

  await drag(page, 0);
  const start = await until('#frame-index to move to the start after dragging the slider left',
    async () => { const i = await index(page); return i && i.k < end.k && i.k <= 1 && i; });
  log(`dragged to ${start.text}`);
  await until('no leader in the first frame (the picture follows the slider)',
    async () => leaders(await members(page)).length === 0);
  const eventAtStart = await text(page, '#event');
  if (eventAtStart === eventAtEnd) throw new Error(`#event did not change with the slider: ${eventAtEnd}`);
  const shown = await page.evaluate(() => window.etcdlabView.current());
  const first = await page.evaluate(() => window.etcdlabView.frames()[0]);
  if (shown.seq !== first.seq) throw new Error(`the slider is at the start but current() is seq ${shown.seq}, not ${first.seq}`);

  await drag(page, 0.5);
  const middle = await until('#frame-index to move to the middle',
    async () => { const i = await index(page); return i && i.k > start.k && i.k < end.k && i; });
  log(`dragged to ${middle.text}; event ${await text(page, '#event')}`);
  await shot('trace-middle.png');
});
