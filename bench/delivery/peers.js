'use strict';
// bench/delivery/peers.js — the peers of `make bench-delivery`: no-op job throughput of
// graphile-worker and pg-boss on the same PostgreSQL as the afp email worker.
//
//   node peers.js graphile URL JOBS PROCS CONCURRENCY LOCAL_QUEUE COMPLETE_BATCH_DELAY_MS
//   node peers.js pgboss   URL JOBS PROCS WORKERS BATCH_SIZE POOL_MAX
//
// The packages come from build/bench-node (NODE_PATH, installed by bench/delivery.sh).
// Each run: empty the queue, insert JOBS jobs in bulk (graphile-worker addJobs, pg-boss insert;
// chunks of 10,000), then start PROCS worker processes (child_process.fork of this file) and
// measure from the first job handed to a handler until every job is completed in the database:
//   graphile-worker deletes completed jobs: start = earliest first-handler call of the
//     processes (their clocks are the same machine clock), end = when
//     graphile_worker._private_jobs is seen empty (polled every 10 ms once the handlers have
//     seen all jobs);
//   pg-boss keeps them: start = min(started_on), end = max(completed_on) of pgboss.job, read
//     once every job is 'completed' — database timestamps, like the afp measurement.
// Every job's handler must run exactly JOBS times in total, else the run fails (exit 1).
// Prints one line: `RESULT <name> jobs=<n> seconds=<s> jobs_per_s=<r> insert_s=<s> <settings>`.

const { fork } = require('child_process');
const { performance } = require('perf_hooks');
const { Client } = require('pg');

// Wall clock in milliseconds with sub-millisecond resolution (comparable across processes).
function nowMs() {
  return performance.timeOrigin + performance.now();
}

// Sleeps ms milliseconds.
function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// One SQL query on a short-lived connection; returns the rows.
async function query(url, sql, params) {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

// Starts PROCS children running `child` with args; resolves to the child handles and a
// state object that sums their handled-job counts and keeps the earliest first-job time.
async function startChildren(procs, args) {
  const state = { counts: new Array(procs).fill(0), first: Infinity, ready: 0, children: [] };
  const readyAll = new Promise((resolve, reject) => {
    for (let i = 0; i < procs; i++) {
      const ch = fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      ch.on('message', (m) => {
        if (m.type === 'ready' && ++state.ready === procs) resolve();
        if (m.type === 'first') state.first = Math.min(state.first, m.at);
        if (m.type === 'count') state.counts[i] = m.count;
        if (m.type === 'error') reject(new Error(m.message));
      });
      ch.on('exit', (code) => {
        if (code !== 0 && !state.stopping) reject(new Error(`worker process exited with ${code}`));
      });
      state.children.push(ch);
    }
  });
  await readyAll;
  return state;
}

// Sum of the jobs the children's handlers have seen.
function handled(state) {
  return state.counts.reduce((a, b) => a + b, 0);
}

// Waits until the handlers have seen `jobs` jobs (fails after timeoutS seconds).
async function waitHandled(state, jobs, timeoutS) {
  const end = Date.now() + timeoutS * 1000;
  while (handled(state) < jobs) {
    if (Date.now() > end) throw new Error(`timeout: handlers saw ${handled(state)} of ${jobs} jobs`);
    await sleep(20);
  }
}

// Asks the children to stop and waits for them to exit.
async function stopChildren(state) {
  state.stopping = true;
  await Promise.all(state.children.map((ch) => new Promise((r) => {
    if (ch.exitCode !== null) return r();
    ch.on('exit', r);
    ch.send({ type: 'stop' });
  })));
}

// ---------------------------------------------------------------- graphile-worker
// Parent side of the graphile-worker measurement.
async function graphileMain(url, jobs, procs, concurrency, localQueue, batchDelay) {
  const gw = require('graphile-worker');
  await gw.runMigrations({ connectionString: url, logger: silentGraphileLogger(gw) });
  await query(url, 'DELETE FROM graphile_worker._private_jobs');
  await query(url, 'VACUUM ANALYZE graphile_worker._private_jobs');
  const utils = await gw.makeWorkerUtils({ connectionString: url, logger: silentGraphileLogger(gw) });
  const t0 = nowMs();
  for (let i = 0; i < jobs; i += 10000) {
    const specs = [];
    for (let k = i; k < Math.min(jobs, i + 10000); k++) specs.push({ identifier: 'noop', payload: { n: k } });
    await utils.addJobs(specs);
  }
  const insertS = (nowMs() - t0) / 1000;
  await utils.release();
  const queued = Number((await query(url, 'SELECT count(*) AS n FROM graphile_worker._private_jobs'))[0].n);
  if (queued !== jobs) throw new Error(`graphile-worker: ${queued} jobs queued, expected ${jobs}`);
  await query(url, 'CHECKPOINT');

  const state = await startChildren(procs, ['graphile-child', url, String(concurrency), String(localQueue), String(batchDelay)]);
  await waitHandled(state, jobs, 600);
  let left;
  for (;;) {
    left = Number((await query(url, 'SELECT count(*) AS n FROM graphile_worker._private_jobs'))[0].n);
    if (left === 0) break;
    await sleep(10);
  }
  const end = nowMs();
  await stopChildren(state);
  if (handled(state) !== jobs) throw new Error(`graphile-worker: handlers ran ${handled(state)} times for ${jobs} jobs`);
  const secs = (end - state.first) / 1000;
  console.log(`RESULT graphile-worker jobs=${jobs} seconds=${secs.toFixed(3)} jobs_per_s=${Math.round(jobs / secs)} ` +
    `insert_s=${insertS.toFixed(2)} procs=${procs} concurrency=${concurrency} localQueue=${localQueue} completeJobBatchDelay=${batchDelay}`);
}

// A graphile-worker logger that drops everything below warnings.
function silentGraphileLogger(gw) {
  return new gw.Logger(() => (level, message) => {
    if (level === 'error' || level === 'warning') console.error(`graphile-worker ${level}: ${message}`);
  });
}

// Child side: one graphile-worker runner with a no-op task.
async function graphileChild(url, concurrency, localQueue, batchDelay) {
  const gw = require('graphile-worker');
  let count = 0;
  let sentFirst = false;
  const worker = {
    localQueue: localQueue > 1 ? { size: localQueue } : undefined,
    completeJobBatchDelay: batchDelay,
  };
  const runner = await gw.run({
    connectionString: url,
    concurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: silentGraphileLogger(gw),
    taskList: {
      noop: async () => {
        if (!sentFirst) {
          sentFirst = true;
          process.send({ type: 'first', at: nowMs() });
        }
        count++;
      },
    },
    preset: { worker: { ...worker, maxPoolSize: Math.max(10, concurrency + 2) } },
  });
  const timer = setInterval(() => process.send({ type: 'count', count }), 20);
  process.on('message', async (m) => {
    if (m.type !== 'stop') return;
    clearInterval(timer);
    process.send({ type: 'count', count });
    await runner.stop();
    process.exit(0);
  });
  process.send({ type: 'ready' });
}

// ---------------------------------------------------------------- pg-boss
// Parent side of the pg-boss measurement.
async function pgbossMain(url, jobs, procs, workers, batchSize, poolMax) {
  const PgBoss = require('pg-boss');
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false });
  boss.on('error', (e) => console.error('pg-boss error:', e.message));
  await boss.start();
  await boss.deleteQueue('noop').catch(() => {});
  await boss.createQueue('noop');
  const t0 = nowMs();
  for (let i = 0; i < jobs; i += 10000) {
    const batch = [];
    for (let k = i; k < Math.min(jobs, i + 10000); k++) batch.push({ name: 'noop', data: { n: k } });
    await boss.insert(batch);
  }
  const insertS = (nowMs() - t0) / 1000;
  await boss.stop({ graceful: false, wait: true });
  const queued = Number((await query(url, "SELECT count(*) AS n FROM pgboss.job WHERE name = 'noop' AND state = 'created'"))[0].n);
  if (queued !== jobs) throw new Error(`pg-boss: ${queued} jobs queued, expected ${jobs}`);
  await query(url, 'VACUUM ANALYZE pgboss.job');
  await query(url, 'CHECKPOINT');

  const state = await startChildren(procs, ['pgboss-child', url, String(workers), String(batchSize), String(poolMax)]);
  await waitHandled(state, jobs, 600);
  let row;
  for (;;) {
    row = (await query(url, "SELECT count(*) FILTER (WHERE state <> 'completed') AS open, " +
      "extract(epoch FROM max(completed_on) - min(started_on)) AS secs FROM pgboss.job WHERE name = 'noop'"))[0];
    if (Number(row.open) === 0) break;
    await sleep(10);
  }
  await stopChildren(state);
  if (handled(state) !== jobs) throw new Error(`pg-boss: handlers ran ${handled(state)} times for ${jobs} jobs`);
  const secs = Number(row.secs);
  console.log(`RESULT pg-boss jobs=${jobs} seconds=${secs.toFixed(3)} jobs_per_s=${Math.round(jobs / secs)} ` +
    `insert_s=${insertS.toFixed(2)} procs=${procs} workers_per_proc=${workers} batchSize=${batchSize} pool_max=${poolMax}`);
}

// Child side: WORKERS pg-boss work() loops (the v10 replacement of teamSize) with batch fetches.
async function pgbossChild(url, workers, batchSize, poolMax) {
  const PgBoss = require('pg-boss');
  const boss = new PgBoss({ connectionString: url, max: poolMax, supervise: false, schedule: false, migrate: false });
  boss.on('error', (e) => console.error('pg-boss error:', e.message));
  await boss.start();
  let count = 0;
  let sentFirst = false;
  for (let w = 0; w < workers; w++) {
    await boss.work('noop', { batchSize, pollingIntervalSeconds: 0.5 }, async (batch) => {
      if (!sentFirst) {
        sentFirst = true;
        process.send({ type: 'first', at: nowMs() });
      }
      count += batch.length;
    });
  }
  const timer = setInterval(() => process.send({ type: 'count', count }), 20);
  process.on('message', async (m) => {
    if (m.type !== 'stop') return;
    clearInterval(timer);
    process.send({ type: 'count', count });
    await boss.stop({ graceful: true, wait: true, timeout: 5000 });
    process.exit(0);
  });
  process.send({ type: 'ready' });
}

// ---------------------------------------------------------------- entry
// Dispatches on the first argument (parent modes and the children's modes).
async function main() {
  const [mode, url, ...rest] = process.argv.slice(2);
  const n = rest.map(Number);
  switch (mode) {
    case 'graphile': return graphileMain(url, n[0], n[1], n[2], n[3], n[4]);
    case 'pgboss': return pgbossMain(url, n[0], n[1], n[2], n[3], n[4]);
    case 'graphile-child': return graphileChild(url, n[0], n[1], n[2]);
    case 'pgboss-child': return pgbossChild(url, n[0], n[1], n[2]);
    default:
      console.error('usage: node peers.js graphile|pgboss URL JOBS PROCS ...');
      process.exit(2);
  }
}

main().catch((e) => {
  if (process.send) process.send({ type: 'error', message: String(e && e.stack || e) });
  console.error(`peers.js: ${e && e.stack || e}`);
  process.exit(1);
});
