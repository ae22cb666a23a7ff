#!/usr/bin/env node
// CTest driver (interop_lidarmill_laz): every valid LAS/LAZ of the shared data
// (legacy/, las14/, ign/) goes through `lidarmill translate IN OUT.laz`; the
// output must decode, with laz-perf and with laz-rs, to exactly the records
// `lidarmill info IN --json --checksum` reports, and that checksum must match
// the independently decoded one in SOURCES.md. One file is also written with
// `--chunk-size 1000` per layout (legacy and LAS 1.4) to cover many chunks.
// Usage: check_lidarmill_laz.mjs LIDARMILL_BINARY SHARED_DATA [WORK_DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  parseJsonLine,
  readSources,
  Report,
  requireDriverInputs,
  run,
  runOracle,
  runPool,
} from './lib/driver.mjs';

const INPUT_FOLDERS = ['legacy', 'las14', 'ign'];
// Neither npm decoder has wave-packet items (laz-perf 0.0.7, laz crate 0.5.2).
const NPM_DECODABLE_FORMATS = new Set([0, 1, 2, 3, 6, 7, 8]);
const ORACLES = [
  { name: 'laz-perf', script: 'lazperf_records.mjs' },
  { name: 'laz-rs', script: 'lazrs_records.mjs' },
];
const SMALL_CHUNKS = 1000;
const MULTI_CHUNK_INPUTS = ['legacy/autzen_trim.las', 'ign/test_data_77055_627755_LA93_IGN69_extra_dims.laz'];

function whyInputIsSkipped(entry) {
  if (!entry) return 'not listed in SOURCES.md';
  if (entry.laz.startsWith('c1,')) return 'LASzip compressor 1 (pointwise) input, which the npm decoders cannot read';
  if (entry.pointFormat === 10) return 'point format 10, which the npm decoders cannot read';
  return null;
}

async function lidarmillChecksum(binary, file) {
  const result = await run(binary, ['info', file, '--json', '--checksum']);
  let json;
  try {
    json = JSON.parse(result.stdout);  // info prints one (pretty-printed) JSON document
  } catch {
    json = parseJsonLine(result.stdout);
  }
  if (result.code !== 0) throw new Error(`lidarmill info exited ${result.code}: ${result.stderr.trim().split('\n')[0]}`);
  if (!json || !/^[0-9a-f]{64}$/.test(json.records_sha256 ?? '')) {
    throw new Error('lidarmill info --json --checksum printed no records_sha256');
  }
  return json.records_sha256;
}

async function translate(binary, input, output, extraArgs) {
  const result = await run(binary, ['translate', ...extraArgs, input, output]);
  if (result.code !== 0) {
    throw new Error(`lidarmill translate exited ${result.code}: ${result.stderr.trim().split('\n')[0]}`);
  }
  if (!fs.existsSync(output)) throw new Error('lidarmill translate exited 0 but wrote no output');
}

// Returns a task that checks one (input, translate options) combination.
function translationTask({ binary, sharedData, workDir, entry, extraArgs, report }) {
  return async () => {
    const label = `${entry.file}${extraArgs.length ? ` (${extraArgs.join(' ')})` : ''}`;
    const input = path.join(sharedData, entry.file);
    const output = path.join(workDir, `${entry.file.replaceAll('/', '__')}${extraArgs.length ? '.small' : ''}.laz`);
    try {
      const expected = await lidarmillChecksum(binary, input);
      if (entry.sha256 && expected !== entry.sha256) {
        return report.fail(`${label}: lidarmill info says ${expected}, SOURCES.md says ${entry.sha256}`);
      }
      await translate(binary, input, output, extraArgs);
      if (!NPM_DECODABLE_FORMATS.has(entry.pointFormat)) {
        report.skip(`${label}: no npm decoder for point format ${entry.pointFormat}; checking the round trip with lidarmill info only`);
        const roundTrip = await lidarmillChecksum(binary, output);
        if (roundTrip !== expected) return report.fail(`${label}: output records ${roundTrip}, input ${expected}`);
        return report.ok(`${label}: lidarmill round trip keeps the records`);
      }
      for (const oracle of ORACLES) {
        const decoded = await runOracle(oracle.script, output);
        if (decoded.records_sha256 !== expected) {
          report.fail(`${label}: ${oracle.name} decodes ${decoded.points} points ${decoded.records_sha256}, expected ${expected}`);
        } else if (extraArgs.length && decoded.chunk_size !== SMALL_CHUNKS) {
          report.fail(`${label}: output chunk size ${decoded.chunk_size}, asked for ${SMALL_CHUNKS}`);
        } else {
          report.ok(`${label}: ${oracle.name} decodes the same ${decoded.points} records`);
          continue;
        }
        return; // keep the output for inspection
      }
      fs.rmSync(output, { force: true });
    } catch (error) {
      report.fail(`${label}: ${error.message}`);
    }
  };
}

function listInputs(sharedData, sources, report) {
  const entries = [];
  for (const folder of INPUT_FOLDERS) {
    const names = fs.readdirSync(path.join(sharedData, folder)).filter((name) => /\.la[sz]$/.test(name));
    for (const name of names.sort()) {
      const file = `${folder}/${name}`;
      const entry = sources.get(file);
      const reason = whyInputIsSkipped(entry);
      if (reason) report.skip(`${file}: ${reason}`);
      else entries.push(entry);
    }
  }
  return entries;
}

async function main() {
  const [binary, sharedData, workArg] = process.argv.slice(2);
  requireDriverInputs(binary, sharedData);
  const sources = readSources(sharedData);
  const report = new Report();
  const inputs = listInputs(sharedData, sources, report);
  const workRoot = workArg ?? os.tmpdir();
  fs.mkdirSync(workRoot, { recursive: true });
  for (const stale of fs.readdirSync(workRoot).filter((name) => name.startsWith('lidarmill-laz-'))) {
    fs.rmSync(path.join(workRoot, stale), { recursive: true, force: true }); // kept by an earlier failed run
  }
  const workDir = fs.mkdtempSync(path.join(workRoot, 'lidarmill-laz-'));
  const common = { binary, sharedData, workDir, report };
  await runPool([
    ...inputs.map((entry) => translationTask({ ...common, entry, extraArgs: [] })),
    ...MULTI_CHUNK_INPUTS.map((file) =>
      translationTask({ ...common, entry: sources.get(file), extraArgs: ['--chunk-size', String(SMALL_CHUNKS)] }),
    ),
  ]);
  if (report.failures === 0) fs.rmSync(workDir, { recursive: true, force: true });
  else console.log(`outputs of failed checks kept in ${workDir}`);
  report.finish('lidarmill translate -> npm decoders');
}

await main();
