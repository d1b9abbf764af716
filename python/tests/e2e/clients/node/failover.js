// The npm etcd3 client's failover driver (see ../failover.py for the protocol): one client given
// every endpoint puts and reads f/<i> = v<i> until stdin closes, one JSON line per operation.
//
//     node failover.js 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379
'use strict';

const { Etcd3 } = require('etcd3');
const { hostsAndCredentials } = require('./tls');

const PAUSE_MS = 50; // after a failed operation

function emit(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

async function main() {
  const endpoints = process.argv[2].split(',');
  const client = new Etcd3({
    ...hostsAndCredentials(endpoints),
    dialTimeout: 2000,
    defaultCallOptions: () => ({ deadline: Date.now() + 5000 }),
  });
  let stopped = false;
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => { stopped = true; });
  let puts = 0; let errors = 0;
  for (let i = 0; !stopped; i++) {
    let op = 'put';
    try {
      await client.put(`f/${i}`).value(`v${i}`);
      puts++;
      emit({ put: i });
      op = 'get';
      emit({ get: i, value: await client.get(`f/${i}`).string() });
    } catch (e) { // recorded; the loop is what must keep going
      errors++;
      emit({ error: `${e.constructor.name}: ${e.message}`, op, i });
      // A pause, as an application would take. Without it, a client whose three per-host
      // circuit breakers are all open (3 failures each, open 5 s: the default) spins through
      // tens of thousands of immediate BrokenCircuitErrors.
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  }
  client.close();
  // The last line, and exit once it is written (an exit with a write pending cuts it).
  process.stdout.write(JSON.stringify({ done: true, puts, errors }) + '\n', () => process.exit(0));
}

main().then(() => {}, (e) => {
  process.stderr.write(`failover driver failed: ${e.stack || e}\n`);
  process.exit(1);
});
