#!/usr/bin/env node
// Run one Nosana job definition through Nosana's own node (built by setup.sh) on the
// local Docker engine or Podman service, offline, and write what the node did as JSON.
//
//   node run-job.mjs [--timeout SECONDS] [--keep] [--no-unshare] [--provider docker|podman]
//                    [--socket PATH] JOB.json OUT.json
//
// --provider selects the node's container orchestration, as `nosana node run --provider`
// does: `docker` (default; socket /var/run/docker.sock) or `podman`, the provider production
// nodes run (socket $NOS2COMPOSE_PODMAN_SOCKET, default /run/nos2compose-podman.sock, served
// by `podman system service`, which .ci/podman.sh starts). See README.md and ../PODMAN.md.
//
// The outer process (this file without --inner) makes a fresh temp dir (config DIR for the
// node's DB, a copy of the job), starts itself again with --inner in a child process (under
// `unshare -n` when that works: loopback only, the Docker socket still works), kills it on
// timeout, then reads DIR/nosana_db.json and the event log the child appended to, removes
// the containers and volumes named after the flow id (unless --keep), and writes OUT.json.
// The child calls the node's real runJob(), which ends with process.exit(); everything the
// child records is written synchronously as it happens, so nothing is lost at exit.
//
// Exit status: 0 OUT.json written (whatever the job's status), 3 OUT.json written but the
// run timed out, 2 harness failure (message on stderr; OUT.json may be missing).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROG = 'run-job.mjs';
const GRACE_MS = 15000; // after SIGTERM on timeout, before SIGKILL
const SOCKETS = {
  docker: '/var/run/docker.sock',
  podman: process.env.NOS2COMPOSE_PODMAN_SOCKET || '/run/nos2compose-podman.sock',
};
const USAGE =
  `usage: node ${PROG} [--timeout SECONDS] [--keep] [--no-unshare|--unshare] [--provider docker|podman] ` +
  '[--socket PATH] JOB.json OUT.json';

function fail(message) {
  process.stderr.write(`${PROG}: ERROR: ${message}\n`);
  process.exit(2);
}

function distDir() {
  const build = process.env.NOS2COMPOSE_ORACLE_BUILD || path.join(HERE, 'build');
  return path.join(build, 'nosana-cli', 'dist');
}

function parseArgs(argv) {
  const opts = { timeout: 120, keep: false, unshare: 'auto', provider: 'docker', socket: null, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--timeout') opts.timeout = Number(value());
    else if (a.startsWith('--timeout=')) opts.timeout = Number(a.slice(10));
    else if (a === '--keep') opts.keep = true;
    else if (a === '--no-unshare') opts.unshare = 'no';
    else if (a === '--unshare') opts.unshare = 'yes';
    else if (a === '--socket') opts.socket = value();
    else if (a === '--provider') opts.provider = value();
    else if (a === '--inner') opts.inner = value();
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a.startsWith('--')) fail(`unknown option ${a}`);
    else opts.files.push(a);
  }
  if (!(opts.timeout > 0)) fail('--timeout must be a positive number of seconds');
  if (!(opts.provider in SOCKETS)) fail(`--provider must be docker or podman, not ${opts.provider}`);
  opts.socket ??= SOCKETS[opts.provider];
  return opts;
}

// ---------------------------------------------------------------------------------------
// Inner: runs inside the child process, next to the node's code.
// ---------------------------------------------------------------------------------------

/** A JSON-safe deep copy taken at the moment of the call (the node mutates its objects). */
function snapshot(value, ancestors = [], depth = 0) {
  if (value === null || value === undefined) return value ?? null;
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean') return value;
  if (t === 'bigint') return value.toString();
  if (t === 'function') return '[Function]';
  if (t === 'symbol') return value.toString();
  if (value instanceof Error) {
    return { error: value.name, message: value.message, ...(value.eventType ? { eventType: value.eventType } : {}) };
  }
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('utf-8');
  if (ancestors.includes(value)) return '[Circular]';
  if (depth > 12) return '[Deep]';
  const next = [...ancestors, value];
  if (Array.isArray(value)) return value.map((v) => snapshot(v, next, depth + 1));
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), snapshot(v, next, depth + 1)]));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = proto?.constructor?.name;
    // Dockerode containers, streams, controllers...: a name is enough.
    if (name && !['Object'].includes(name)) {
      if ('id' in value && typeof value.id === 'string') return `[${name} ${value.id}]`;
      return `[${name}]`;
    }
  }
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = snapshot(v, next, depth + 1);
  return out;
}

async function inner(opts) {
  const work = opts.inner;
  const eventsFile = path.join(work, 'events.jsonl');
  const metaFile = path.join(work, 'meta.json');
  const dist = distDir();
  const mod = (rel) => import(pathToFileURL(path.join(dist, rel)).href);
  let seq = 0;
  const record = (kind, entry) => {
    fs.appendFileSync(eventsFile, JSON.stringify({ seq: seq++, kind, ...entry }) + '\n');
  };
  const meta = { runErrors: [], exitEventCode: null };
  const writeMeta = () => fs.writeFileSync(metaFile, JSON.stringify(meta));
  writeMeta();

  // runJob reports its own failures only on the console: keep the message.
  const origError = console.error.bind(console);
  console.error = (...args) => {
    const text = args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ');
    if (text.includes('========== ERROR ==========')) {
      const m = text.match(/Message: ([\s\S]*?)\n\s*(?:Trace:|=====)/);
      meta.runErrors.push(m ? m[1].trim() : text.trim());
      writeMeta();
      record('run', { t: Date.now(), event: 'runJob:error', message: m ? m[1].trim() : text.trim() });
    }
    origError(...args);
  };
  process.on('exit', (code) => {
    meta.exitEventCode = code; // 1 also for an uncaught exception
    writeMeta();
  });

  const { NodeConfigsSingleton } = await mod('src/services/NodeManager/configs/NodeConfigs.js');
  NodeConfigsSingleton.getInstance({});
  const { setSDK } = await mod('src/services/sdk.js');
  await setSDK('devnet', 'http://127.0.0.1:1', undefined, '', {});
  const { configs } = await mod('src/services/NodeManager/configs/configs.js');
  configs({ isNodeRun: true });

  const { DockerExtended } = await mod('src/docker/index.js');
  DockerExtended.prototype.promisePull = async function promisePull(image) {
    record('engine', { t: Date.now(), method: 'promisePull', phase: 'refused', args: [image] });
    throw new Error(`nos2compose oracle: pulling is disabled; image ${image} is not on the engine`);
  };

  if (opts.provider === 'podman') {
    // The Podman provider creates each container with one libpod call
    // (POST /v4.5.0/libpod/containers/create, body from createPodmanRunOptions) and does
    // everything else through the Docker-compatible API of the same socket. The body sets
    // `cgroups_mode: "disabled"`, which Podman only implements with the crun runtime, and
    // crun refuses this host's hybrid cgroups (runc is the runtime here: ../PODMAN.md). So
    // that one key is dropped from the body, and nothing else is changed; the call is
    // recorded (engineEvents `libpodCreate`: the body as sent, the key dropped, the status).
    const { PodmanContainerOrchestration } = await mod(
      'src/services/NodeManager/provider/containerOrchestration/PodmanContainerOrchestration.js',
    );
    const origCall = PodmanContainerOrchestration.prototype.libPodAPICall;
    PodmanContainerOrchestration.prototype.libPodAPICall = async function libPodAPICall(apiPath, options) {
      if (apiPath === '/containers/create' && typeof options?.body === 'string') {
        const body = JSON.parse(options.body);
        const dropped = {};
        for (const key of DROPPED_CREATE_KEYS) {
          if (key in body) {
            dropped[key] = body[key];
            delete body[key];
          }
        }
        options = { ...options, body: JSON.stringify(body) };
        const response = await origCall.call(this, apiPath, options);
        record('engine', { t: Date.now(), method: 'libpodCreate', phase: 'return', args: [body.name], body, dropped, status: response.status });
        return response;
      }
      return origCall.call(this, apiPath, options);
    };
  }

  // Repository (and engine) calls, as the node's logging proxy emits them. Some objects
  // are wrapped by two proxies, so one call is emitted twice, nested (outer call, inner
  // call, inner return, outer return): a call emitted while an identical call (same
  // class, method and argument objects) is still open is that duplicate.
  const { logEmitter } = await mod('src/services/NodeManager/monitoring/proxy/loggingProxy.js');
  const open = new Set();
  const dup = new WeakSet();
  const ENGINE_METHODS = new Set([
    'runFlowContainer', 'stopAndDeleteContainer', 'stopContainer', 'pullImage',
    'createVolume', 'createNetwork', 'deleteVolume',
  ]);
  const sameCall = (a, b) =>
    a.class === b.class && a.method === b.method && a.arguments.length === b.arguments.length &&
    a.arguments.every((x, i) => x === b.arguments[i]);
  logEmitter.on('log', (entry) => {
    if (!entry || typeof entry !== 'object') return;
    if (entry.class === 'FlowHandler' && entry.method === 'operationExposed') {
      record('task', { t: Date.parse(entry.timestamp) || Date.now(), event: 'operationExposed', opId: entry.arguments?.[0]?.opId, port: entry.arguments?.[0]?.port, url: entry.result });
      return;
    }
    const isRepo = entry.class === 'NodeRepository';
    const isEngine = /ContainerOrchestration$/.test(entry.class || '') && ENGINE_METHODS.has(entry.method);
    if (!isRepo && !isEngine) return;
    if (entry.type === 'call') {
      for (const o of open) {
        if (sameCall(o, entry)) {
          dup.add(entry);
          return;
        }
      }
      open.add(entry);
      // Getters change nothing: keep only what changes state.
      if (isRepo && /^(get|display)/.test(entry.method)) return;
      const t = Date.parse(entry.timestamp) || Date.now();
      if (isRepo) record('repo', { t, method: entry.method, args: snapshot(entry.arguments) });
      else record('engine', { t: Date.now(), method: entry.method, phase: 'call', args: snapshot(engineArgs(entry)) });
    } else {
      if (dup.has(entry)) return;
      open.delete(entry);
      if (isEngine) {
        record('engine', {
          t: Date.now(), method: entry.method, phase: entry.type,
          args: snapshot(engineArgs(entry)),
          ...(entry.type === 'error' ? { error: snapshot(entry.error) } : {}),
        });
      }
    }
  });

  // Op lifecycle signals that never reach the repository (startup success, info logs),
  // and the group schedule: hook each TaskManager as it bootstraps.
  const TaskManager = (await mod('src/services/NodeManager/node/task/TaskManager.js')).default;
  const origBootstrap = TaskManager.prototype.bootstrap;
  TaskManager.prototype.bootstrap = function bootstrap(...args) {
    const tm = this;
    const events = tm.getEventsEmitter();
    events.on('flow:updated', (e) => {
      if (!e || !e.type || ['start', 'exit', 'error', 'updateOpState', 'healthcheck:startup:success', 'flow:secrets-updated'].includes(e.type)) return;
      record('task', { t: Date.now(), event: e.type, ...(e.group !== undefined ? { group: e.group } : {}) });
    });
    events.on('op:emitter-registered', ({ opId }) => {
      const em = tm.operationsEventEmitters.get(opId);
      if (!em) return;
      record('task', { t: Date.now(), event: 'op:registered', opId });
      for (const name of ['start', 'healthcheck:startup:success', 'healthcheck:url:exposed', 'healthcheck:continuous:failure', 'exit', 'error', 'end']) {
        em.on(name, (payload) => {
          const e = { t: Date.now(), event: `op:${name}`, opId };
          if (name === 'exit') e.exitCode = payload?.exitCode ?? null;
          if (name === 'error') e.message = payload?.message ?? String(payload);
          if (name.startsWith('healthcheck') && payload && typeof payload === 'object') e.port = payload.port ?? null;
          record('task', e);
        });
      }
      em.on('log', (log, logType, type) => {
        if (type === 'container') return; // in the repository already
        record('task', {
          t: Date.now(), event: 'op:log', opId, logType: logType ?? null,
          message: log instanceof Error ? log.message : typeof log === 'string' ? log : snapshot(log),
        });
      });
    });
    try {
      return origBootstrap.apply(this, args);
    } catch (error) {
      record('task', { t: Date.now(), event: 'bootstrap:error', message: error?.message ?? String(error) });
      throw error;
    }
  };

  const { runJob } = await mod('src/cli/node/run/action.js');
  record('run', { t: Date.now(), event: 'runJob:start' });
  await runJob(path.join(work, 'job.json'), {
    provider: opts.provider,
    podman: opts.socket,
    config: path.join(work, 'config'),
    gpu: 'all',
  });
  // runJob ends with process.exit(); not reached.
}

// Keys of the node's libpod create body that this host cannot honour (see inner()).
const DROPPED_CREATE_KEYS = ['cgroups_mode'];

function engineArgs(entry) {
  const a = entry.arguments || [];
  switch (entry.method) {
    case 'runFlowContainer': {
      const c = a[1] || {};
      return [a[0], { name: c.name, cmd: c.cmd, entrypoint: c.entrypoint, env: c.env, work_dir: c.work_dir, volumes: c.volumes, aliases: c.aliases }];
    }
    case 'pullImage':
      return [a[0]];
    default:
      return a.filter((x) => typeof x === 'string');
  }
}

// ---------------------------------------------------------------------------------------
// Outer: prepares, supervises, collects.
// ---------------------------------------------------------------------------------------

// `GET /_ping` on the engine's socket (Docker's and Podman's both answer it): exit 0 on 200.
const PING =
  "const s=require('net').connect(process.argv[1]);" +
  "s.on('connect',()=>{s.write('GET /_ping HTTP/1.0\\r\\n\\r\\n')});" +
  "let b='';s.on('data',d=>{b+=d});s.on('end',()=>process.exit(/ 200 /.test(b)?0:1));" +
  "s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),5000)";

/** The engine answers on `socket`. */
function answers(socket) {
  return spawnSync(process.execPath, ['-e', PING, socket], { stdio: 'ignore' }).status === 0;
}

/** `unshare -n` works here and the engine's socket still answers inside it. */
function canUnshare(socket) {
  const r = spawnSync('unshare', ['-n', process.execPath, '-e', PING, socket], { stdio: 'ignore' });
  return r.status === 0;
}

function readJson(file, fallback) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf-8'));
  } catch {
    return fallback;
  }
}

function readEvents(file) {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf-8');
  } catch {
    return [];
  }
  const out = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a line cut by SIGKILL
    }
  }
  return out;
}

/** Remove the containers and volumes the node named after this flow, and nothing else, on
 * the engine the node used (`socket`: Docker's, or Podman's Docker-compatible API). */
function cleanupFlow(flowId, socket) {
  if (!flowId || !/^[a-z0-9]{8,}$/i.test(flowId)) return { containers: [], volumes: [] };
  const docker = (...args) =>
    execFileSync('docker', ['-H', `unix://${socket}`, ...args], { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'] });
  const mine = new RegExp(`^(frpc-)?${flowId}-\\d+$`);
  const removed = { containers: [], volumes: [] };
  try {
    const names = docker('ps', '-a', '--filter', `name=${flowId}`, '--format', '{{.Names}}')
      .split('\n').filter((n) => mine.test(n));
    if (names.length) {
      docker('rm', '-f', '-v', ...names);
      removed.containers = names;
    }
    const vols = docker('volume', 'ls', '-q', '--filter', `name=${flowId}`)
      .split('\n').filter((v) => v.startsWith(`${flowId}-`));
    if (vols.length) {
      docker('volume', 'rm', '-f', ...vols);
      removed.volumes = vols;
    }
  } catch (error) {
    process.stderr.write(`${PROG}: warning: cleanup of flow ${flowId} failed: ${String(error.stderr || error.message).trim()}\n`);
  }
  return removed;
}

function stripAnsi(s) {
  return s.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\r/g, '');
}

function collect(work, { timedOut, childStatus, netns, started, ended, keep, provider, socket }) {
  const db = readJson(path.join(work, 'config', 'nosana_db.json'), null);
  const meta = readJson(path.join(work, 'meta.json'), { runErrors: [] });
  const all = readEvents(path.join(work, 'events.jsonl'));
  const flows = db?.flows ? Object.values(db.flows) : [];
  const flow = flows[0] || null;
  const state = flow?.state || {};
  const opStates = (state.opStates || []).map((s) => ({
    operationId: s.operationId,
    group: s.group,
    providerId: s.providerId ?? null,
    status: s.status,
    exitCode: s.exitCode,
    startTime: s.startTime,
    endTime: s.endTime,
    logs: (s.logs || []).map((l) => ({ type: l.type, log: l.log, ...(l.timestamp ? { timestamp: l.timestamp } : {}) })),
    results: s.results === undefined ? null : s.results,
    errors: s.errors || [],
    diagnostics: s.diagnostics || null,
  }));
  let consoleText = '';
  try {
    consoleText = stripAnsi(fs.readFileSync(path.join(work, 'console.log'), 'utf-8'));
  } catch {}
  const pick = (kind) => all.filter((e) => e.kind === kind).map(({ kind: _k, ...rest }) => rest);
  const cleaned = keep ? { containers: [], volumes: [] } : cleanupFlow(flow?.id, socket);
  return {
    flowId: flow?.id ?? null,
    project: flow?.project ?? null,
    status: flow ? state.status ?? null : null,
    errors: state.errors || [],
    runErrors: meta.runErrors || [],
    startTime: state.startTime ?? null,
    endTime: state.endTime ?? null,
    secrets: state.secrets ?? null,
    opStates,
    events: pick('repo'),
    taskEvents: pick('task').concat(pick('run')).sort((a, b) => a.seq - b.seq),
    engineEvents: pick('engine'),
    jobDefinition: flow?.jobDefinition ?? null,
    harness: {
      provider,
      socket,
      timedOut,
      childExit: childStatus,
      exitEventCode: meta.exitEventCode ?? null,
      netns,
      wallMs: ended - started,
      cleanedUp: cleaned,
    },
    console: consoleText.split('\n').filter((l) => l.trim() !== ''),
  };
}

async function outer(opts) {
  if (opts.files.length !== 2) fail(USAGE);
  const [jobFile, outFile] = opts.files;
  const dist = distDir();
  if (!fs.existsSync(path.join(dist, 'src/cli/node/run/action.js'))) {
    fail(`the node is not built (${dist} missing): run tests/fidelity/oracle/setup.sh`);
  }
  let jobText;
  try {
    jobText = fs.readFileSync(jobFile, 'utf-8');
    JSON.parse(jobText);
  } catch (error) {
    fail(`cannot read job ${jobFile}: ${error.message}`);
  }
  if (!answers(opts.socket)) {
    fail(
      opts.provider === 'podman'
        ? `the Podman service does not answer on ${opts.socket} (.ci/podman.sh starts it)`
        : `the Docker engine does not answer on ${opts.socket}`,
    );
  }
  let netns = 'host';
  if (opts.unshare !== 'no') {
    if (canUnshare(opts.socket)) netns = 'unshare -n';
    else if (opts.unshare === 'yes') fail(`\`unshare -n\` does not work here, or ${opts.socket} does not answer inside it`);
    else process.stderr.write(`${PROG}: warning: \`unshare -n\` unavailable; running the node in the host's network namespace\n`);
  }

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'n2c-oracle-'));
  fs.mkdirSync(path.join(work, 'config'));
  fs.writeFileSync(path.join(work, 'job.json'), jobText); // runJob wants *.json|*.yaml|*.yml
  const consoleFd = fs.openSync(path.join(work, 'console.log'), 'w');
  const self = fileURLToPath(import.meta.url);
  const nodeArgs = ['--no-warnings', self, '--inner', work, '--provider', opts.provider, '--socket', opts.socket];
  const [cmd, args] = netns === 'unshare -n' ? ['unshare', ['-n', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];

  const started = Date.now();
  const child = spawn(cmd, args, {
    cwd: work,
    stdio: ['ignore', consoleFd, consoleFd],
    detached: true, // own process group, killed as one
    env: { ...process.env, NOS2COMPOSE_ORACLE_BUILD: path.dirname(path.dirname(dist)), FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  let timedOut = false;
  const killGroup = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {}
  };
  let killTimer;
  const timer = setTimeout(() => {
    timedOut = true;
    process.stderr.write(`${PROG}: timeout after ${opts.timeout} s: stopping the node (SIGTERM, then SIGKILL after ${GRACE_MS / 1000} s)\n`);
    killGroup('SIGTERM');
    killTimer = setTimeout(() => killGroup('SIGKILL'), GRACE_MS);
  }, opts.timeout * 1000);
  // Interrupted: kill the node, then still collect and clean up below.
  let interrupted = null;
  const interrupt = (sig) => () => {
    interrupted = sig;
    killGroup('SIGKILL');
  };
  process.on('SIGINT', interrupt('SIGINT'));
  process.on('SIGTERM', interrupt('SIGTERM'));

  const childStatus = await new Promise((resolve) => {
    child.on('error', (error) => resolve({ error: error.message }));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  clearTimeout(killTimer);
  fs.closeSync(consoleFd);
  const ended = Date.now();

  const out = collect(work, {
    timedOut, childStatus, netns, started, ended, keep: opts.keep, provider: opts.provider, socket: opts.socket,
  });
  if (interrupted) out.harness.interrupted = interrupted;
  fs.writeFileSync(outFile, JSON.stringify(out, null, 2) + '\n');
  if (!out.flowId && out.runErrors.length === 0) {
    const tail = out.console.slice(-5).join(' | ');
    process.stderr.write(`${PROG}: ERROR: the node created no flow and reported no error (child ${JSON.stringify(childStatus)}): ${tail}\n`);
    if (!opts.keep) fs.rmSync(work, { recursive: true, force: true });
    process.exit(2);
  }
  if (opts.keep) process.stderr.write(`${PROG}: kept ${work} and the flow's containers\n`);
  else fs.rmSync(work, { recursive: true, force: true });
  process.exit(interrupted ? 130 : timedOut ? 3 : 0);
}

const opts = parseArgs(process.argv.slice(2));
if (opts.inner) {
  inner(opts).catch((error) => {
    process.stderr.write(`${PROG} (inner): ${error?.stack || error}\n`);
    process.exit(2);
  });
} else {
  outer(opts).catch((error) => fail(error?.stack || String(error)));
}
