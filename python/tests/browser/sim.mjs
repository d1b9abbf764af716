// The page on a simulated cluster (`python -m etcdlab.view --seed 3 --nodes 5`):
//  1. play until a leader shows; while playing, message dots show in most sampled moments
//     (the clock walks every frame, slowing while messages fly); pause and step until a dot
//     shows; crash the leader with its own button, play: another member becomes leader at a
//     higher term (rule: a crashed leader is replaced, Raft §5.2);
//  2. restart it, cut the new leader and one follower off from the other three, play until
//     the three elect a leader of their own and commit three proposals: the screenshot of that
//     is the README's picture of a partition (sim-partition.png).
// Usage: node sim.mjs <view url> <artifact dir> <nodes>

import { run, until, members, leaders, setInput, log, text } from './lib.mjs';

const PLAY_MS = 20000; // wall time for an election in the page's play mode (virtual time)

async function playing(page, on) {
  const label = await text(page, '#play');
  if ((label === 'Pause') !== on) await page.click('#play');
  await until(`#play to read ${on ? 'Pause' : 'Play'}`,
    async () => (await text(page, '#play')) === (on ? 'Pause' : 'Play'));
}

await run('sim', async ({ page, url, args, shot }) => {
  const n = Number(args[0] || 5);
  await page.goto(url);
  await until(`${n} members on the page`, async () => (await members(page)).length === n);
  if ((await page.evaluate(() => window.etcdlabView && window.etcdlabView.source)) !== 'sim') {
    throw new Error('window.etcdlabView.source is not "sim"');
  }
  // Virtual ms per play request (one every ~100 ms): about 1 virtual s per wall second, so an
  // election takes well under a second to watch and the run stays short.
  await setInput(page, '#speed', 100);

  // 1. a leader, crashed, is replaced at a higher term.
  await playing(page, true);
  const [first] = await until('a leader', async () => leaders(await members(page)), PLAY_MS);
  log(`leader ${first.id} at term ${first.term}`);
  // Playing at this speed (a 1-5 ms flight is far shorter than one animation frame's worth
  // of virtual time), the dots still show: the leader's heartbeats and their answers fly in
  // most moments of the picture. Sampled in the page, 20 moments 100 ms apart.
  const sampled = await page.evaluate(async () => {
    let withDots = 0;
    for (let i = 0; i < 20; i++) {
      if (document.querySelectorAll('#messages [data-msg]').length > 0) withDots++;
      await new Promise((r) => setTimeout(r, 100));
    }
    return withDots;
  });
  log(`message dots in ${sampled} of 20 moments while playing`);
  if (sampled < 10) throw new Error(`message dots in only ${sampled} of 20 moments while playing`);
  // Paused, step one event at a time until a message is in flight: its dot shows.
  await playing(page, false);
  await until('a message dot (#messages [data-msg]) after stepping event by event', async () => {
    if ((await page.$$('#messages [data-msg]')).length > 0) return true;
    await page.click('#step');
    return false;
  });
  await page.click(`[data-member="${first.id}"] [data-action="crash"]`);
  await playing(page, true);
  await until(`member ${first.id} shown down after its crash button`, async () =>
    (await members(page)).find((m) => m.id === first.id && !m.up), PLAY_MS);
  const [second] = await until(`a new leader (not ${first.id}) above term ${first.term}`,
    async () => leaders(await members(page))
      .filter((m) => m.id !== first.id && m.up && m.term > first.term),
    PLAY_MS);
  log(`after the crash: leader ${second.id} at term ${second.term}`);
  await shot('sim-new-leader.png');

  // 2. a partition: the new leader and one follower against the other three.
  await page.click(`[data-member="${first.id}"] [data-action="restart"]`);
  await until(`member ${first.id} up again after restart`, async () =>
    (await members(page)).find((m) => m.id === first.id && m.up), PLAY_MS);
  const ids = (await members(page)).map((m) => m.id);
  const minority = [second.id, ids.find((id) => id !== second.id)];
  const majority = ids.filter((id) => !minority.includes(id));
  const groups = `${minority.join(',')}|${majority.join(',')}`;
  await setInput(page, '#partition-groups', groups);
  await page.click('#partition');
  log(`partition ${groups}`);
  const [third] = await until(`a leader among ${majority} above term ${second.term}`,
    async () => leaders(await members(page))
      .filter((m) => majority.includes(m.id) && m.term > second.term),
    PLAY_MS);
  log(`majority side: leader ${third.id} at term ${third.term}`);
  await until('the cut links on the page (blocked pairs in the frame)', async () =>
    page.evaluate(() => (window.etcdlabView.current().blocked || []).length > 0));
  // Three proposals: the majority commits them in the new term, so the picture shows the
  // two sides' logs apart. The play loop animates behind the simulator, so wait for the
  // picture itself (the client rows and the current frame), not just the simulator.
  for (let i = 0; i < 3; i++) {
    await setInput(page, '#propose-data', `x${i}`);
    await page.click('#propose');
  }
  await until('three client rows shown ok (the proposals)', async () =>
    (await page.$$('#clients [data-op][data-outcome="ok"]')).length >= 3, PLAY_MS);
  await until(`member ${third.id}'s log and commit past the minority's in the picture`, async () =>
    page.evaluate(([a, b]) => {
      const f = window.etcdlabView.current();
      const node = (id) => f.nodes.find((x) => x.id === id);
      return node(a).commit >= node(b).last_index + 3;
    }, [third.id, second.id]), PLAY_MS);
  await playing(page, false);
  await shot('sim-partition.png');
});
