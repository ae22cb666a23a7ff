// Helpers shared by the interop oracle scripts. Only node: built-ins here, so
// the oracles depend on nothing but the decoder packages they exercise.
import fs from 'node:fs';
import path from 'node:path';

// Every script prints exactly one JSON line on success; on failure one line on
// stderr and a non-zero exit, so drivers can tell the two apart without parsing.
export async function runCli(usage, minArgs, main) {
  const args = process.argv.slice(2);
  const script = path.basename(process.argv[1]);
  if (args.length < minArgs) {
    process.stderr.write(`usage: ${script} ${usage}\n`);
    process.exit(2);
  }
  try {
    const result = await main(args);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } catch (error) {
    process.stderr.write(`${script}: ${oneLine(describeError(error))}\n`);
    process.exit(1);
  }
}

export function oneLine(text) {
  return String(text).replace(/\s+/g, ' ').trim();
}

// WASM modules throw plain numbers (Emscripten exception pointers), strings or
// Errors; a decoder may also offer a way to turn the pointer into its message.
export function describeError(error, wasmModule) {
  if (error instanceof Error) return error.message;
  if (typeof error === 'number' && wasmModule?.getExceptionMessage) {
    try {
      return wasmModule.getExceptionMessage(error).join(': ');
    } catch {
      // fall through to the raw value
    }
  }
  return String(error);
}

export function readFileBytes(file) {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new Error(`${file}: cannot read (${error.code ?? error.message})`);
  }
}

// The subset of the public header block the oracles need. Parsed here rather
// than taken from a decoder so that a decoder and the file can be compared.
export function parseLasHeader(bytes, file) {
  if (bytes.length < 227 || bytes.toString('latin1', 0, 4) !== 'LASF') {
    throw new Error(`${file}: not a LAS/LAZ file (no LASF signature or header too short)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const versionMinor = view.getUint8(25);
  const headerSize = view.getUint16(94, true);
  const rawFormat = view.getUint8(104);
  const legacyCount = view.getUint32(107, true);
  const hasLas14Fields = versionMinor >= 4 && headerSize >= 375 && bytes.length >= 375;
  const count64 = hasLas14Fields ? view.getBigUint64(247, true) : BigInt(legacyCount);
  if (count64 > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Error(`${file}: point count ${count64} is not plausible`);
  }
  const readXyz = (at) => [0, 8, 16].map((step) => view.getFloat64(at + step, true));
  return {
    versionMajor: view.getUint8(24),
    versionMinor,
    headerSize,
    offsetToPoints: view.getUint32(96, true),
    vlrCount: view.getUint32(100, true),
    // Bits 6 and 7 are the LAZ "compressed" markers, not part of the format id.
    pointFormat: rawFormat & 0x3f,
    compressedBits: rawFormat & 0xc0,
    recordLength: view.getUint16(105, true),
    pointCount: Number(count64),
    scale: readXyz(131),
    offset: readXyz(155),
    max: [179, 195, 211].map((at) => view.getFloat64(at, true)),
    min: [187, 203, 219].map((at) => view.getFloat64(at, true)),
  };
}

// Accumulates records into a fixed buffer so the hash sees few large updates
// instead of one call per point.
export class RecordBatcher {
  constructor(hash, recordLength, recordsPerBatch = 8192) {
    this.hash = hash;
    this.recordLength = recordLength;
    this.buffer = new Uint8Array(recordLength * recordsPerBatch);
    this.used = 0;
  }

  push(record) {
    if (this.used + record.length > this.buffer.length) this.flush();
    this.buffer.set(record, this.used);
    this.used += record.length;
  }

  flush() {
    if (this.used > 0) this.hash.update(this.buffer.subarray(0, this.used));
    this.used = 0;
  }
}

const LASZIP_USER_ID = 'laszip encoded';
const LASZIP_RECORD_ID = 22204;
const VLR_HEADER_SIZE = 54;

function readUserId(bytes, at) {
  const raw = bytes.toString('latin1', at, at + 16);
  const end = raw.indexOf('\0');
  return end < 0 ? raw : raw.slice(0, end);
}

// Returns the decoded laszip VLR, or throws. Decoders such as laz-perf happily
// pass uncompressed LAS through, so an oracle must insist that the file really
// is LAZ, or a writer that forgot to compress would go unnoticed.
export function requireLaszipVlr(bytes, header, file) {
  if (header.compressedBits === 0) {
    throw new Error(`${file}: not a LAZ file (point format byte has no compression bit)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = header.headerSize;
  for (let index = 0; index < header.vlrCount; ++index) {
    if (at + VLR_HEADER_SIZE > bytes.length) break;
    const recordId = view.getUint16(at + 18, true);
    const length = view.getUint16(at + 20, true);
    const payload = at + VLR_HEADER_SIZE;
    if (readUserId(bytes, at + 2) === LASZIP_USER_ID && recordId === LASZIP_RECORD_ID) {
      return { ...parseLaszipPayload(view, payload, length, file), payloadOffset: payload };
    }
    at = payload + length;
  }
  throw new Error(`${file}: not a LAZ file (no laszip VLR among ${header.vlrCount} VLRs)`);
}

function parseLaszipPayload(view, at, length, file) {
  if (length < 34 || at + length > view.byteLength) {
    throw new Error(`${file}: laszip VLR too short (${length} bytes)`);
  }
  const itemCount = view.getUint16(at + 32, true);
  const items = [];
  for (let i = 0; i < itemCount && at + 34 + 6 * (i + 1) <= at + length; ++i) {
    const item = at + 34 + 6 * i;
    items.push({
      type: view.getUint16(item, true),
      size: view.getUint16(item + 2, true),
      version: view.getUint16(item + 4, true),
    });
  }
  return {
    compressor: view.getUint16(at, true),
    coder: view.getUint16(at + 2, true),
    chunkSize: view.getUint32(at + 12, true),
    items,
  };
}

// Decoder packages are imported lazily so that a missing install gives the
// one-line error every oracle promises instead of Node's module stack trace.
export async function importPackage(name) {
  try {
    return await import(name);
  } catch (error) {
    if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(`npm package ${name} is not installed in tests/interop (run \`make interop-deps\`)`);
  }
}
