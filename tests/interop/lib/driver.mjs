// Plumbing shared by the CTest drivers: preconditions, child processes, a
// small worker pool and the SOURCES.md tables of the shared data folder.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const INTEROP_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const SKIP_EXIT_CODE = 77;
const PARALLEL_JOBS = 2; // the build machine is shared; never more than two
const CHILD_TIMEOUT_MS = 120_000;

export function requireSharedData(sharedData) {
  if (!sharedData || !fs.existsSync(path.join(sharedData, 'SOURCES.md'))) {
    console.log(`SKIP: shared data folder absent: ${sharedData}`);
    process.exit(SKIP_EXIT_CODE);
  }
}

// Installing is the Makefile's job (make interop-deps); a test that silently
// passed without its oracles would prove nothing, so this is a failure.
export function requireDecoderPackages() {
  const require = createRequire(path.join(INTEROP_DIR, 'package.json'));
  const missing = ['laz-perf', 'copc', '@loaders.gl/las'].filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    console.log(
      `FAIL: npm decoder packages missing in ${INTEROP_DIR}: ${missing.join(', ')}; ` +
        'run `make interop-deps` (scripts/install-interop.sh) first',
    );
    process.exit(1);
  }
}

// The shared checks every lidarmill driver starts with: data folder, npm decoders, binary.
export function requireDriverInputs(binary, sharedData) {
  requireSharedData(sharedData);
  requireDecoderPackages();
  if (!binary || !fs.existsSync(binary)) {
    console.log(`FAIL: lidarmill binary not found: ${binary}`);
    process.exit(1);
  }
}

export function run(command, args, { cwd } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.on('data', (data) => (stdout += data));
    child.stderr.on('data', (data) => (stderr += data));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr });
    });
  });
}

function firstLine(text) {
  return text.trim().split('\n')[0] ?? '';
}

// Runs one oracle script; returns its JSON result or throws its stderr line.
export async function runOracle(script, file) {
  const result = await run(process.execPath, [path.join(INTEROP_DIR, script), file]);
  const json = parseJsonLine(result.stdout);
  if (result.code !== 0) {
    const reason = firstLine(result.stderr) || `exit code ${result.code}`;
    const error = new Error(reason);
    error.json = json;
    throw error;
  }
  if (!json) throw new Error(`${script} printed no JSON line`);
  return json;
}

export function parseJsonLine(text) {
  const line = text.trim().split('\n').filter(Boolean).pop();
  if (!line) return null;
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

export async function runPool(tasks) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_JOBS, tasks.length) }, worker));
  return results;
}

// Collects ok/FAIL/skip lines and decides the exit code.
export class Report {
  constructor() {
    this.failures = 0;
    this.passes = 0;
    this.skips = 0;
  }

  ok(message) {
    ++this.passes;
    console.log(`ok    ${message}`);
  }

  fail(message) {
    ++this.failures;
    console.log(`FAIL  ${message}`);
  }

  skip(message) {
    ++this.skips;
    console.log(`skip  ${message}`);
  }

  finish(what) {
    console.log(`${what}: ${this.passes} passed, ${this.failures} failed, ${this.skips} skipped`);
    process.exit(this.failures > 0 || this.passes === 0 ? 1 : 0);
  }
}

function tableCells(line) {
  return line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

function unquote(cell) {
  return cell.replace(/^`|`$/g, '');
}

// Reads the two tables of SOURCES.md we rely on, keyed by relative path:
// the file table (format, record length, LAZ compressor) and the decode table
// (points, records SHA-256, laz-rs verdict, notes).
export function readSources(sharedData) {
  const lines = fs.readFileSync(path.join(sharedData, 'SOURCES.md'), 'utf8').split('\n');
  const files = new Map();
  let section = '';
  for (const line of lines) {
    if (line.startsWith('## ')) section = line.slice(3).trim();
    if (!line.startsWith('| `')) continue;
    const cells = tableCells(line);
    const file = unquote(cells[0]);
    const entry = files.get(file) ?? { file };
    if (section === 'Files') {
      Object.assign(entry, {
        pointFormat: Number(cells[3]),
        recordLength: Number(cells[4]),
        laz: cells[7],
      });
    } else if (section.startsWith('Decoded')) {
      Object.assign(entry, {
        points: cells[1],
        sha256: /^`[0-9a-f]{64}`$/.test(cells[3]) ? unquote(cells[3]) : null,
        lazRs: cells[4],
        notes: cells[6] ?? '',
      });
    } else {
      continue;
    }
    files.set(file, entry);
  }
  return files;
}
