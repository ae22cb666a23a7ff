#!/usr/bin/env node
// CTest driver (interop_lidarmill_copc): shared-data files and a synthetic tile go through
// `lidarmill copc`; every output is walked with the npm `copc` package and decoded node by
// node with laz-perf (copc_walk.mjs: counts, chunk table, node bounds), and must pass
// `lidarmill validate --deep`.
// Usage: check_lidarmill_copc.mjs LIDARMILL_BINARY SHARED_DATA [WORK_DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INTEROP_DIR, parseJsonLine, Report,
  requireDriverInputs, run, runPool } from './lib/driver.mjs';

const INPUTS = [
  'legacy/autzen_trim.laz',
  'legacy/extrabytes.laz',
  'legacy/lone-star.laz',
  'legacy/point-color-time.las',
  'las14/autzen_trim_7.las',
  'las14/ellipsoid-1.4.laz',
  'ign/test_data_77055_627755_LA93_IGN69_extra_dims.laz',
  'ign/test_semis_2023_0292_6833_LA93_IGN69.laz',
  'bench/real7_2m.laz',
];
const SYNTH_POINTS = 300000;

function firstLine(text) {
  return text.trim().split('\n')[0] ?? '';
}

function copcTask({ binary, inputs, output, label, report }) {
  return async () => {
    const converted = await run(binary, ['copc', ...inputs, '-o', output, '--progress', 'none', '--memory-budget', '512M']);
    if (converted.code !== 0) return report.fail(`${label}: lidarmill copc exited ${converted.code}: ${firstLine(converted.stderr)}`);
    const walked = await run(process.execPath, [path.join(INTEROP_DIR, 'copc_walk.mjs'), output]);
    const walk = parseJsonLine(walked.stdout);
    if (walked.code !== 0 || !walk) return report.fail(`${label}: copc_walk: ${firstLine(walked.stderr) || firstLine(walked.stdout)}`);
    const validated = await run(binary, ['validate', '--deep', '--json', output]);
    if (validated.code !== 0) return report.fail(`${label}: lidarmill validate --deep exited ${validated.code}: ${validated.stdout}`);
    report.ok(`${label}: ${walk.points} points in ${walk.nodes} nodes, ${walk.pages} page(s) walked with copc + laz-perf; validate --deep ok`);
  };
}

async function main() {
  const [binary, sharedData, workArg] = process.argv.slice(2);
  requireDriverInputs(binary, sharedData);
  const report = new Report();
  const workRoot = workArg ?? os.tmpdir();
  fs.mkdirSync(workRoot, { recursive: true });
  for (const stale of fs.readdirSync(workRoot).filter((name) => name.startsWith('lidarmill-copc-interop-'))) {
    fs.rmSync(path.join(workRoot, stale), { recursive: true, force: true });
  }
  const workDir = fs.mkdtempSync(path.join(workRoot, 'lidarmill-copc-interop-'));
  const tile = path.join(workDir, 'synth.laz');
  const synth = await run(binary, ['synth', tile, '--points', String(SYNTH_POINTS), '--rgb', '--progress', 'none']);
  if (synth.code !== 0) report.fail(`synth: exited ${synth.code}: ${firstLine(synth.stderr)}`);
  const tasks = INPUTS.filter((file) => fs.existsSync(path.join(sharedData, file))).map((file) =>
    copcTask({
      binary,
      inputs: [path.join(sharedData, file)],
      output: path.join(workDir, `${file.replaceAll('/', '__')}.copc.laz`),
      label: file,
      report,
    }),
  );
  if (synth.code === 0) {
    tasks.push(copcTask({ binary, inputs: [tile], output: path.join(workDir, 'synth.copc.laz'), label: `synth ${SYNTH_POINTS} points (rgb)`, report }));
  }
  // Sequential: each conversion already uses every core.
  for (const task of tasks) await task();
  if (report.failures === 0) fs.rmSync(workDir, { recursive: true, force: true });
  else console.log(`outputs of failed checks kept in ${workDir}`);
  report.finish('lidarmill copc -> npm copc + laz-perf');
}

await main();
