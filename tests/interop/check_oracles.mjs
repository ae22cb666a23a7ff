#!/usr/bin/env node
// CTest driver (interop_oracles_on_shared_data): proves the oracle scripts
// against the independently decoded hashes in SHARED_DATA/SOURCES.md, and
// proves they notice damage (a flipped byte, a wrong hierarchy count, an
// uncompressed file posing as LAZ).
// Usage: check_oracles.mjs SHARED_DATA [SCRATCH_DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  readSources,
  Report,
  requireDecoderPackages,
  requireSharedData,
  runOracle,
  runPool,
} from './lib/driver.mjs';

const RECORD_ORACLES = [
  { name: 'laz-perf', script: 'lazperf_records.mjs' },
  { name: 'laz-rs', script: 'lazrs_records.mjs' },
];
const MIN_EXPECTED_LAZ = 25; // guards against a SOURCES.md parse that finds nothing

// LAZ files with a listed hash that the npm decoders are said to decode.
function lazFilesWithHash(sources) {
  return [...sources.values()].filter(
    (entry) => entry.file.endsWith('.laz') && entry.sha256 && !entry.lazRs.startsWith('error'),
  );
}

function recordTasks(sharedData, entries, report) {
  return entries.flatMap((entry) =>
    RECORD_ORACLES.map((oracle) => async () => {
      const label = `${oracle.name} ${entry.file}`;
      try {
        const result = await runOracle(oracle.script, path.join(sharedData, entry.file));
        if (result.records_sha256 !== entry.sha256 || String(result.points) !== entry.points) {
          report.fail(`${label}: ${result.points} points ${result.records_sha256}, ` +
            `SOURCES.md says ${entry.points} points ${entry.sha256}`);
        } else {
          report.ok(`${label}: ${result.points} points`);
        }
      } catch (error) {
        report.fail(`${label}: ${error.message}`);
      }
    }),
  );
}

function expectedCopcShape(notes) {
  const match = /COPC: (\d+) page\(s\), (\d+) nodes, depth \d+, node counts sum (\d+)/.exec(notes);
  return match && { pages: Number(match[1]), nodes: Number(match[2]), points: Number(match[3]) };
}

function copcTasks(sharedData, sources, report) {
  const copcFiles = fs.readdirSync(path.join(sharedData, 'copc')).filter((name) => name.endsWith('.copc.laz'));
  return copcFiles.map((name) => async () => {
    const file = `copc/${name}`;
    const entry = sources.get(file);
    const expected = entry && expectedCopcShape(entry.notes);
    if (!expected) return report.fail(`copc_walk ${file}: no COPC line in SOURCES.md to compare with`);
    try {
      const walk = await runOracle('copc_walk.mjs', path.join(sharedData, file));
      const got = { pages: walk.pages, nodes: walk.nodes, points: walk.points };
      if (JSON.stringify(got) !== JSON.stringify(expected) ||
          walk.records_sha256_by_chunk_order !== entry.sha256) {
        report.fail(`copc_walk ${file}: got ${JSON.stringify(got)} ${walk.records_sha256_by_chunk_order}, ` +
          `SOURCES.md says ${JSON.stringify(expected)} ${entry.sha256}`);
      } else {
        report.ok(`copc_walk ${file}: ${walk.nodes} nodes, ${walk.pages} page(s), ${walk.points} points`);
      }
    } catch (error) {
      report.fail(`copc_walk ${file}: ${error.message}`);
    }
  });
}

function findVlrPayload(bytes, userId, recordId) {
  const headerSize = bytes.readUInt16LE(94);
  const vlrCount = bytes.readUInt32LE(100);
  let at = headerSize;
  for (let i = 0; i < vlrCount; ++i) {
    const user = bytes.toString('latin1', at + 2, at + 18).replace(/\0.*$/s, '');
    const length = bytes.readUInt16LE(at + 20);
    if (user === userId && bytes.readUInt16LE(at + 18) === recordId) return at + 54;
    at += 54 + length;
  }
  throw new Error(`no ${userId}/${recordId} VLR`);
}

// Each damaged copy must make the oracle fail or disagree with the hash of
// the intact file; an oracle that cannot see damage proves nothing.
function damageTasks(sharedData, sources, scratch, report) {
  const expectRejected = async (label, script, file, intactHash) => {
    try {
      const result = await runOracle(script, file);
      const hash = result.records_sha256 ?? result.records_sha256_by_chunk_order;
      if (hash === intactHash) report.fail(`${label}: damage went unnoticed`);
      else report.ok(`${label}: damage changes the records hash`);
    } catch (error) {
      report.ok(`${label}: rejected (${error.message.slice(0, 120)})`);
    }
  };

  const flipped = path.join(scratch, 'autzen_trim_flipped.laz');
  const lazBytes = fs.readFileSync(path.join(sharedData, 'legacy/autzen_trim.laz'));
  lazBytes[Math.floor(lazBytes.length / 2)] ^= 0x5a; // inside the second chunk's data
  fs.writeFileSync(flipped, lazBytes);
  const autzenHash = sources.get('legacy/autzen_trim.laz').sha256;

  const recount = path.join(scratch, 'simple_recount.copc.laz');
  const copcBytes = fs.readFileSync(path.join(sharedData, 'copc/simple.copc.laz'));
  const info = findVlrPayload(copcBytes, 'copc', 1);
  const rootPage = Number(copcBytes.readBigUInt64LE(info + 40));
  copcBytes.writeInt32LE(copcBytes.readInt32LE(rootPage + 28) + 1, rootPage + 28); // first node's count
  fs.writeFileSync(recount, copcBytes);

  const plainLas = path.join(sharedData, 'legacy/point10.las');
  const plainHash = sources.get('legacy/point10.las').sha256;
  return [
    ...RECORD_ORACLES.map((oracle) => () =>
      expectRejected(`${oracle.name} flipped byte in autzen_trim.laz`, oracle.script, flipped, autzenHash)),
    ...RECORD_ORACLES.map((oracle) => () =>
      expectRejected(`${oracle.name} uncompressed point10.las`, oracle.script, plainLas, plainHash)),
    () => expectRejected('copc_walk node count +1 in simple.copc.laz', 'copc_walk.mjs', recount, null),
  ];
}

async function main() {
  const [sharedData, scratchArg] = process.argv.slice(2);
  requireSharedData(sharedData);
  requireDecoderPackages();
  const sources = readSources(sharedData);
  const report = new Report();
  const lazEntries = lazFilesWithHash(sources);
  if (lazEntries.length < MIN_EXPECTED_LAZ) {
    report.fail(`only ${lazEntries.length} LAZ files with hashes found in SOURCES.md (parser out of date?)`);
  }
  for (const entry of sources.values()) {
    if (entry.file.endsWith('.laz') && !lazEntries.includes(entry)) {
      report.skip(`${entry.file}: SOURCES.md says the npm decoders cannot decode it`);
    }
  }
  fs.mkdirSync(scratchArg ?? os.tmpdir(), { recursive: true });
  const scratch = fs.mkdtempSync(path.join(scratchArg ?? os.tmpdir(), 'oracles-'));
  try {
    await runPool([
      ...recordTasks(sharedData, lazEntries, report),
      ...copcTasks(sharedData, sources, report),
      ...damageTasks(sharedData, sources, scratch, report),
    ]);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  report.finish('interop oracles on shared data');
}

await main();
