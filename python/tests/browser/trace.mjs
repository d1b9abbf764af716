// The page replaying one recording, three ways, in one page of one browser:
//  a. served by `python -m etcdlab.view --trace FILE` (source "trace");
//  b. a notebook's embed (etcdlab.view.embed) saved as HTML and opened as file://: the page
//     and the recording inlined in an iframe's srcdoc, no server (source "recording");
//  c. the page's own index.html opened as file://, the file given to "Open recording…".
// Each time: the controls that change a run are hidden (a recording cannot be changed), and
// dragging the time slider replays it: the frame index and the picture follow the slider (the
// first frame has no leader yet, the last one has).
// Usage: node trace.mjs <view url> <artifact dir> <frames in the file> <nodes>
//                       <notebook html> <static index.html> <recording file>

import { pathToFileURL } from 'node:url';
import { run, until, members, leaders, text, log } from './lib.mjs';

const CONTROLS = ['#play', '#step', '#partition', '#heal', '#propose', '#drop', '#isolate-leader',
  '[data-action="crash"]', '[data-action="restart"]'];

// Drags the slider's thumb with the mouse to `fraction` (0 = left end, 1 = right end).
// `page` is the browser page (mouse) and `view` the document holding the view (the page
// itself or an iframe): element boxes are in the page's coordinates either way.
async function drag(page, view, fraction) {
  const slider = await view.$('#slider');
  await slider.scrollIntoViewIfNeeded(); // a notebook's iframe is shorter than the page
  const box = await slider.boundingBox();
  const value = await view.$eval('#slider', (e) => ({ v: +e.value, min: +e.min, max: +e.max }));
  const at = (f) => box.x + 8 + f * (box.width - 16); // the thumb's centre is inset
  const from = (value.v - value.min) / Math.max(1, value.max - value.min);
  await page.mouse.move(at(from), box.y + box.height / 2);
  await page.mouse.down();
  for (const step of [0.25, 0.5, 0.75, 1]) {
    await page.mouse.move(at(from + (fraction - from) * step), box.y + box.height / 2);
  }
  await page.mouse.up();
}

const index = async (view) => {
  const t = await text(view, '#frame-index');
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(t || '');
  return m ? { k: Number(m[1]), n: Number(m[2]), text: t } : null;
};

async function replays(page, view, { how, source, frames, n }) {
  await until(`${how}: ${n} members on the page`, async () => (await members(view)).length === n);
  const shown = await view.evaluate(() => window.etcdlabView && window.etcdlabView.source);
  if (shown !== source) {
    throw new Error(`${how}: window.etcdlabView.source is ${JSON.stringify(shown)}, ` +
                    `not "${source}"`);
  }
  await until(`${how}: all ${frames} frames loaded`,
    async () => view.evaluate((f) => window.etcdlabView.frames().length === f, frames));

  for (const control of CONTROLS) {
    for (const e of await view.$$(control)) {
      if (await e.isVisible()) {
        throw new Error(`${how}: ${control} is shown (a recording has no controls)`);
      }
    }
  }

  const end = await until(`${how}: #frame-index as "k / n" with n = ${frames}`, async () => {
    const i = await index(view);
    return i && i.n === frames && i;
  });
  await until(`${how}: a leader in the last frame`, async () => leaders(await members(view)));
  const eventAtEnd = await text(view, '#event');

  await drag(page, view, 0);
  const start = await until(`${how}: #frame-index at the start after dragging the slider left`,
    async () => { const i = await index(view); return i && i.k < end.k && i.k <= 1 && i; });
  await until(`${how}: no leader in the first frame (the picture follows the slider)`,
    async () => leaders(await members(view)).length === 0);
  const eventAtStart = await text(view, '#event');
  if (eventAtStart === eventAtEnd) {
    throw new Error(`${how}: #event did not change with the slider: ${eventAtEnd}`);
  }
  const [current, first] = await view.evaluate(() =>
    [window.etcdlabView.current().seq, window.etcdlabView.frames()[0].seq]);
  if (current !== first) {
    throw new Error(`${how}: the slider is at the start but current() is seq ${current}, ` +
                    `not ${first}`);
  }

  await drag(page, view, 0.5);
  const middle = await until(`${how}: #frame-index in the middle after dragging the slider`,
    async () => { const i = await index(view); return i && i.k > start.k && i.k < end.k && i; });
  log(`${how}: ${end.text} -> ${start.text} -> ${middle.text}`);
}

await run('trace', async (ctx) => {
  const { page, url, args, shot } = ctx;
  const [frames, n, notebook, staticIndex, recording] =
    [Number(args[0]), Number(args[1]), args[2], args[3], args[4]];

  await page.goto(url);
  await replays(page, page, { how: 'etcdlab.view --trace', source: 'trace', frames, n });
  await shot('trace-middle.png');

  await page.goto(pathToFileURL(notebook).href);
  const iframe = await until('the embed\'s iframe', async () =>
    page.frames().find((f) => f !== page.mainFrame()));
  ctx.view = iframe; // a failure dumps what the iframe shows
  await replays(page, iframe, { how: 'notebook embed', source: 'recording', frames, n });
  ctx.view = null;
  await shot('notebook-embed.png');

  await page.goto(pathToFileURL(staticIndex).href);
  await until('the file:// page to offer "Open recording…"',
    async () => page.$('#open-recording'));
  await page.setInputFiles('#open-recording', recording);
  await replays(page, page, { how: 'file:// + Open recording', source: 'recording', frames, n });
});
