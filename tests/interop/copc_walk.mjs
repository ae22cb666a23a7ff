#!/usr/bin/env node
// Walks a COPC file with the `copc` npm package: every hierarchy page, every
// node decoded by laz-perf through copc's API. Checks node point counts and
// byte ranges against the LAZ chunk table, that every point lies inside its
// node's cube, that the hierarchy is a proper octree, and that node counts sum
// to the header count. Prints one JSON line; exits 1 when any check failed.
import crypto from 'node:crypto';
import { readChunkTable } from './lib/chunk_table.mjs';
import {
  importPackage,
  parseLasHeader,
  readFileBytes,
  requireLaszipVlr,
  runCli,
} from './lib/common.mjs';

const MAX_REPORTED_ERRORS = 40;

class ErrorList {
  constructor() {
    this.messages = [];
    this.dropped = 0;
  }

  add(message) {
    if (this.messages.length < MAX_REPORTED_ERRORS) this.messages.push(message);
    else ++this.dropped;
  }

  toJSON() {
    return this.dropped ? [...this.messages, `... and ${this.dropped} more`] : this.messages;
  }
}

// Breadth-first over hierarchy pages; a page referenced twice would make the
// walk loop forever and is an error in its own right.
async function walkHierarchy(Copc, getter, rootPage, errors) {
  const nodes = new Map();
  const seenPages = new Set();
  const pending = [rootPage];
  while (pending.length > 0) {
    const page = pending.shift();
    if (seenPages.has(page.pageOffset)) {
      errors.add(`hierarchy page at ${page.pageOffset} referenced twice`);
      continue;
    }
    seenPages.add(page.pageOffset);
    const subtree = await Copc.loadHierarchyPage(getter, page);
    for (const [key, node] of Object.entries(subtree.nodes)) {
      if (nodes.has(key)) errors.add(`node ${key} appears in more than one page`);
      nodes.set(key, node);
    }
    pending.push(...Object.values(subtree.pages));
  }
  return { nodes, pageCount: seenPages.size };
}

function parseKey(key) {
  return key.split('-').map(Number);
}

function checkOctreeShape(nodes, errors) {
  for (const key of nodes.keys()) {
    const [depth, x, y, z] = parseKey(key);
    const span = 2 ** depth;
    if ([x, y, z].some((index) => index < 0 || index >= span)) {
      errors.add(`node ${key} lies outside the root cube`);
    }
    if (depth > 0) {
      const parent = [depth - 1, x >> 1, y >> 1, z >> 1].join('-');
      if (!nodes.has(parent)) errors.add(`node ${key} has no parent ${parent} in the hierarchy`);
    }
  }
}

// The chunk table is written by the LAZ layer, the hierarchy by the COPC
// layer; a writer that lets them drift produces files readers disagree on.
function checkAgainstChunkTable(nodes, chunks, errors) {
  const chunkByOffset = new Map(chunks.map((chunk) => [chunk.byteOffset, chunk]));
  let referenced = 0;
  for (const [key, node] of nodes) {
    if (node.pointCount === 0) {
      if (node.pointDataLength !== 0) errors.add(`empty node ${key} has ${node.pointDataLength} bytes`);
      continue;
    }
    const chunk = chunkByOffset.get(node.pointDataOffset);
    if (!chunk) {
      errors.add(`node ${key} data offset ${node.pointDataOffset} is not the start of a chunk`);
      continue;
    }
    ++referenced;
    if (chunk.pointCount !== node.pointCount) {
      errors.add(`node ${key}: hierarchy says ${node.pointCount} points, chunk table ${chunk.pointCount}`);
    }
    if (chunk.byteLength !== node.pointDataLength) {
      errors.add(`node ${key}: hierarchy says ${node.pointDataLength} bytes, chunk table ${chunk.byteLength}`);
    }
  }
  if (referenced !== chunks.length) {
    errors.add(`${chunks.length} chunks in the chunk table but ${referenced} referenced by nodes`);
  }
}

function nodeBounds(key, cube) {
  const [depth, ...index] = parseKey(key);
  return [0, 1, 2].map((axis) => {
    const size = (cube[axis + 3] - cube[axis]) / 2 ** depth;
    const low = cube[axis] + index[axis] * size;
    return [low, low + size];
  });
}

// Half a scale step of slack: a point on a face may round to either side.
function checkPointsInside(key, records, header, bounds, errors) {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const slack = header.scale.map((scale) => scale / 2 + 1e-9);
  let outside = 0;
  let firstOutside = null;
  for (let at = 0; at < records.byteLength; at += header.recordLength) {
    for (let axis = 0; axis < 3; ++axis) {
      const value = view.getInt32(at + 4 * axis, true) * header.scale[axis] + header.offset[axis];
      const box = bounds[axis];
      const headerBox = [header.min[axis], header.max[axis]];
      if (value < box[0] - slack[axis] || value > box[1] + slack[axis]) {
        ++outside;
        firstOutside ??= `axis ${'xyz'[axis]} value ${value} not in [${box[0]}, ${box[1]}]`;
      }
      if (value < headerBox[0] - slack[axis] || value > headerBox[1] + slack[axis]) {
        errors.add(`node ${key}: point outside header bounds on ${'xyz'[axis]} (${value})`);
      }
    }
  }
  if (outside > 0) errors.add(`node ${key}: ${outside} coordinates outside the node cube, first ${firstOutside}`);
}

async function walk(file) {
  const bytes = readFileBytes(file);
  const header = parseLasHeader(bytes, file);
  const laszip = requireLaszipVlr(bytes, header, file);
  const { Copc } = (await importPackage('copc')).default;
  const { createLazPerf } = await importPackage('laz-perf');
  const getter = async (begin, end) => bytes.subarray(begin, end);
  const copc = await Copc.create(getter);
  const lazPerf = await createLazPerf();
  const errors = new ErrorList();

  const { nodes, pageCount } = await walkHierarchy(Copc, getter, copc.info.rootHierarchyPage, errors);
  checkOctreeShape(nodes, errors);
  checkAgainstChunkTable(nodes, readChunkTable(bytes, header, laszip, file), errors);

  const withData = [...nodes].filter(([, node]) => node.pointCount > 0);
  withData.sort(([, a], [, b]) => a.pointDataOffset - b.pointDataOffset);
  const hash = crypto.createHash('sha256');
  let pointSum = 0;
  for (const [key, node] of withData) {
    const records = await Copc.loadPointDataBuffer(getter, copc.header, node, lazPerf);
    checkPointsInside(key, records, header, nodeBounds(key, copc.info.cube), errors);
    hash.update(records);
    pointSum += node.pointCount;
  }
  if (pointSum !== header.pointCount) {
    errors.add(`node point counts sum to ${pointSum}, header says ${header.pointCount}`);
  }
  const result = {
    nodes: nodes.size,
    points: pointSum,
    pages: pageCount,
    records_sha256_by_chunk_order: hash.digest('hex'),
    errors: errors.toJSON(),
  };
  if (result.errors.length > 0) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    throw new Error(`${file}: ${result.errors.length} COPC check(s) failed, first: ${result.errors[0]}`);
  }
  return result;
}

// Errors from the copc package do not name the file; add it for the one-liner.
async function walkNamingFile(file) {
  try {
    return await walk(file);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(message.startsWith(file) ? message : `${file}: ${message}`);
  }
}

await runCli('FILE.copc.laz', 1, ([file]) => walkNamingFile(file));
