#!/usr/bin/env node
// Decodes every point of a LAZ file with laz-rs (the Rust laz crate compiled to
// WASM, as bundled inside npm @loaders.gl/las) and prints the SHA-256 of the
// concatenated raw records.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readChunkTable, VARIABLE_CHUNK_SIZE } from './lib/chunk_table.mjs';
import {
  describeError,
  oneLine,
  parseLasHeader,
  readFileBytes,
  requireLaszipVlr,
  runCli,
} from './lib/common.mjs';

// A Rust panic is reported through console.error (many lines) before the WASM
// traps with a bare "unreachable"; keep the panic text for the one-line error.
const panicMessages = [];
console.error = (...parts) => panicMessages.push(parts.join(' ').split('\n\nStack:')[0]);

function lazRsError(file, error) {
  const panic = panicMessages.length ? ` [rust panic: ${oneLine(panicMessages.join(' '))}]` : '';
  return new Error(`${file}: laz-rs: ${describeError(error)}${panic}`);
}

// loaders.gl only uses laz-rs to produce decoded attributes; its package
// "exports" hide the wasm-bindgen glue, so locate it next to the package entry
// and drive WasmLasZipDecompressor directly to get the raw records back.
async function loadLazRs() {
  const require = createRequire(import.meta.url);
  let packageDist;
  try {
    packageDist = path.dirname(require.resolve('@loaders.gl/las'));
  } catch {
    throw new Error('npm package @loaders.gl/las is not installed in tests/interop (run `make interop-deps`)');
  }
  const glueDir = path.join(packageDist, 'libs', 'laz-rs-wasm');
  const glue = await import(pathToFileURL(path.join(glueDir, 'laz_rs_wasm.js')).href);
  glue.initSync({ module: fs.readFileSync(path.join(glueDir, 'laz_rs_wasm_bg.wasm')) });
  return glue;
}

const POINTS_PER_CALL = 16384;

// Decodes all points of one LAZ image (a whole file or a single-chunk file)
// into the hash. A failed call leaves the Rust object borrowed, so freeing it
// afterwards would throw and mask the real error; only free on success.
function hashAllPoints(lazRs, image, expected, hash, file) {
  const decompressor = new lazRs.WasmLasZipDecompressor(image);
  const quickHeader = decompressor.header;
  const count = Number(quickHeader.num_points);
  const recordLength = quickHeader.point_size;
  quickHeader.free();
  if (count !== expected.pointCount || recordLength !== expected.recordLength) {
    throw new Error(
      `${file}: laz-rs sees ${count} points of ${recordLength} bytes, expected ` +
        `${expected.pointCount} of ${expected.recordLength}`,
    );
  }
  const batch = new Uint8Array(POINTS_PER_CALL * recordLength);
  for (let done = 0; done < count; done += POINTS_PER_CALL) {
    const records = batch.subarray(0, Math.min(POINTS_PER_CALL, count - done) * recordLength);
    decompressor.decompress_many(records);
    hash.update(records);
  }
  decompressor.free();
}

// laz-rs-wasm 0.5 cannot cross the boundary between variable-size chunks (it
// fails at the first one), so each chunk becomes a small fixed-chunk LAZ file:
// the original header and VLRs with the point count and chunk size patched,
// the chunk's bytes, and an empty chunk table.
function singleChunkImage(bytes, header, laszip, chunk) {
  const prefix = header.offsetToPoints;
  const image = new Uint8Array(prefix + 8 + chunk.byteLength + 8);
  image.set(bytes.subarray(0, prefix));
  image.set(bytes.subarray(chunk.byteOffset, chunk.byteOffset + chunk.byteLength), prefix + 8);
  const view = new DataView(image.buffer);
  view.setUint32(107, header.pointFormat < 6 ? chunk.pointCount : 0, true);
  if (header.versionMinor >= 4 && header.headerSize >= 375) {
    view.setBigUint64(247, BigInt(chunk.pointCount), true);
  }
  view.setUint32(laszip.payloadOffset + 12, Math.max(chunk.pointCount, 1), true);
  view.setBigInt64(prefix, BigInt(prefix + 8 + chunk.byteLength), true);
  return image;
}

async function decodeRecords(file) {
  const bytes = readFileBytes(file);
  const header = parseLasHeader(bytes, file);
  const laszip = requireLaszipVlr(bytes, header, file);
  const lazRs = await loadLazRs();
  const hash = crypto.createHash('sha256');
  let chunkCount = null;
  try {
    if (laszip.chunkSize === VARIABLE_CHUNK_SIZE) {
      const chunks = readChunkTable(bytes, header, laszip, file);
      chunkCount = chunks.length;
      for (const chunk of chunks) {
        const image = singleChunkImage(bytes, header, laszip, chunk);
        const expected = { pointCount: chunk.pointCount, recordLength: header.recordLength };
        hashAllPoints(lazRs, image, expected, hash, file);
      }
      const tablePoints = chunks.reduce((sum, chunk) => sum + chunk.pointCount, 0);
      if (tablePoints !== header.pointCount) {
        throw new Error(`chunk table holds ${tablePoints} points, header says ${header.pointCount}`);
      }
    } else {
      hashAllPoints(lazRs, new Uint8Array(bytes), header, hash, file);
    }
  } catch (error) {
    throw lazRsError(file, error);
  }
  return {
    decoder: 'laz-rs',
    points: header.pointCount,
    records_sha256: hash.digest('hex'),
    point_format: header.pointFormat,
    record_length: header.recordLength,
    chunk_size: laszip.chunkSize,
    ...(chunkCount === null ? {} : { variable_chunks: chunkCount }),
  };
}

await runCli('FILE.laz', 1, ([file]) => decodeRecords(file));
