#!/usr/bin/env node
// Decodes every point of a LAZ file with the laz-perf WASM decoder (npm
// laz-perf) and prints the SHA-256 of the concatenated raw records.
import crypto from 'node:crypto';
import {
  describeError,
  importPackage,
  parseLasHeader,
  readFileBytes,
  RecordBatcher,
  requireLaszipVlr,
  runCli,
} from './lib/common.mjs';

function checkDecoderAgrees(reader, header, file) {
  const count = Number(reader.getCount());
  const length = reader.getPointLength();
  const format = reader.getPointFormat();
  if (count !== header.pointCount) {
    throw new Error(`${file}: laz-perf sees ${count} points, header says ${header.pointCount}`);
  }
  if (length !== header.recordLength) {
    throw new Error(`${file}: laz-perf record length ${length}, header says ${header.recordLength}`);
  }
  if (format !== header.pointFormat) {
    throw new Error(`${file}: laz-perf point format ${format}, header says ${header.pointFormat}`);
  }
}

async function decodeRecords(file) {
  const bytes = readFileBytes(file);
  const header = parseLasHeader(bytes, file);
  const laszip = requireLaszipVlr(bytes, header, file);
  const { createLazPerf } = await importPackage('laz-perf');
  const lazPerf = await createLazPerf();
  const filePointer = lazPerf._malloc(bytes.length);
  const pointPointer = lazPerf._malloc(Math.max(header.recordLength, 1));
  const reader = new lazPerf.LASZip();
  const hash = crypto.createHash('sha256');
  try {
    lazPerf.HEAPU8.set(bytes, filePointer);
    reader.open(filePointer, bytes.length);
    checkDecoderAgrees(reader, header, file);
    const batcher = new RecordBatcher(hash, header.recordLength);
    for (let i = 0; i < header.pointCount; ++i) {
      reader.getPoint(pointPointer);
      // HEAPU8 is re-created when the WASM memory grows, so look it up each time.
      batcher.push(lazPerf.HEAPU8.subarray(pointPointer, pointPointer + header.recordLength));
    }
    batcher.flush();
  } catch (error) {
    throw new Error(`${file}: laz-perf: ${describeError(error, lazPerf)}`);
  } finally {
    reader.delete();
    lazPerf._free(pointPointer);
    lazPerf._free(filePointer);
  }
  return {
    decoder: 'laz-perf',
    points: header.pointCount,
    records_sha256: hash.digest('hex'),
    point_format: header.pointFormat,
    record_length: header.recordLength,
    chunk_size: laszip.chunkSize,
  };
}

await runCli('FILE.laz', 1, ([file]) => decodeRecords(file));
