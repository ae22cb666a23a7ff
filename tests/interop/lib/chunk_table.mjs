// Reader for the LAZ chunk table (point count and byte size of every chunk).
// The table is entropy coded with LASzip's adaptive arithmetic coder and an
// integer compressor, so both are implemented here from the LASzip format
// description; this lets the oracles split variable-size-chunk files (COPC)
// without trusting the file's own hierarchy or the code under test.

const MAX_LENGTH = 0xffffffff;
const MIN_LENGTH = 0x01000000;
const BIT_LENGTH_SHIFT = 13;
const BIT_MAX_COUNT = 1 << 13;
const SYMBOL_LENGTH_SHIFT = 15;
const SYMBOL_MAX_COUNT = 1 << 15;

class BitModel {
  constructor() {
    this.bit0Count = 1;
    this.bitCount = 2;
    this.bit0Probability = 1 << (BIT_LENGTH_SHIFT - 1);
    this.updateCycle = 4;
    this.bitsUntilUpdate = 4;
  }

  update() {
    this.bitCount += this.updateCycle;
    if (this.bitCount > BIT_MAX_COUNT) {
      this.bitCount = (this.bitCount + 1) >>> 1;
      this.bit0Count = (this.bit0Count + 1) >>> 1;
      if (this.bit0Count === this.bitCount) ++this.bitCount;
    }
    const scale = Math.floor(0x80000000 / this.bitCount);
    this.bit0Probability = (this.bit0Count * scale) >>> (31 - BIT_LENGTH_SHIFT);
    this.updateCycle = Math.min((5 * this.updateCycle) >>> 2, 64);
    this.bitsUntilUpdate = this.updateCycle;
  }
}

class SymbolModel {
  constructor(symbols) {
    this.symbols = symbols;
    this.lastSymbol = symbols - 1;
    this.distribution = new Uint32Array(symbols);
    this.symbolCount = new Uint32Array(symbols).fill(1);
    // Large alphabets get a lookup table that narrows the search interval.
    if (symbols > 16) {
      let tableBits = 3;
      while (symbols > 1 << (tableBits + 2)) ++tableBits;
      this.tableSize = 1 << tableBits;
      this.tableShift = SYMBOL_LENGTH_SHIFT - tableBits;
      this.decoderTable = new Uint32Array(this.tableSize + 2);
    } else {
      this.tableSize = 0;
      this.tableShift = 0;
      this.decoderTable = null;
    }
    this.totalCount = 0;
    this.updateCycle = symbols;
    this.update();
    this.updateCycle = (symbols + 6) >>> 1;
    this.symbolsUntilUpdate = this.updateCycle;
  }

  update() {
    this.totalCount += this.updateCycle;
    if (this.totalCount > SYMBOL_MAX_COUNT) {
      this.totalCount = 0;
      for (let n = 0; n < this.symbols; ++n) {
        this.symbolCount[n] = (this.symbolCount[n] + 1) >>> 1;
        this.totalCount += this.symbolCount[n];
      }
    }
    const scale = Math.floor(0x80000000 / this.totalCount);
    let sum = 0;
    let filled = 0;
    for (let k = 0; k < this.symbols; ++k) {
      this.distribution[k] = (scale * sum) >>> (31 - SYMBOL_LENGTH_SHIFT);
      sum += this.symbolCount[k];
      if (this.decoderTable) {
        const slot = this.distribution[k] >>> this.tableShift;
        while (filled < slot) this.decoderTable[++filled] = k - 1;
      }
    }
    if (this.decoderTable) {
      this.decoderTable[0] = 0;
      while (filled <= this.tableSize) this.decoderTable[++filled] = this.symbols - 1;
    }
    this.updateCycle = Math.min((5 * this.updateCycle) >>> 2, (this.symbols + 6) << 3);
    this.symbolsUntilUpdate = this.updateCycle;
  }
}

class ArithmeticDecoder {
  constructor(bytes, start) {
    this.bytes = bytes;
    this.position = start;
    this.length = MAX_LENGTH;
    this.value = 0;
    for (let i = 0; i < 4; ++i) this.value = ((this.value << 8) | this.nextByte()) >>> 0;
  }

  nextByte() {
    if (this.position >= this.bytes.length) throw new Error('chunk table runs past end of file');
    return this.bytes[this.position++];
  }

  renormalize() {
    do {
      this.value = ((this.value << 8) | this.nextByte()) >>> 0;
      this.length = (this.length << 8) >>> 0;
    } while (this.length < MIN_LENGTH);
  }

  decodeBit(model) {
    const split = model.bit0Probability * (this.length >>> BIT_LENGTH_SHIFT);
    const bit = this.value >= split ? 1 : 0;
    if (bit === 0) {
      this.length = split;
      ++model.bit0Count;
    } else {
      this.value -= split;
      this.length -= split;
    }
    if (this.length < MIN_LENGTH) this.renormalize();
    if (--model.bitsUntilUpdate === 0) model.update();
    return bit;
  }

  decodeSymbol(model) {
    let low;
    let high = this.length;
    let symbol;
    this.length >>>= SYMBOL_LENGTH_SHIFT;
    if (model.decoderTable) {
      const target = Math.floor(this.value / this.length);
      const slot = target >>> model.tableShift;
      symbol = model.decoderTable[slot];
      let upper = model.decoderTable[slot + 1] + 1;
      while (upper > symbol + 1) {
        const middle = (symbol + upper) >>> 1;
        if (model.distribution[middle] > target) upper = middle;
        else symbol = middle;
      }
      low = model.distribution[symbol] * this.length;
      if (symbol !== model.lastSymbol) high = model.distribution[symbol + 1] * this.length;
    } else {
      low = 0;
      symbol = 0;
      let upper = model.symbols;
      let middle = upper >>> 1;
      do {
        const bound = this.length * model.distribution[middle];
        if (bound > this.value) {
          upper = middle;
          high = bound;
        } else {
          symbol = middle;
          low = bound;
        }
        middle = (symbol + upper) >>> 1;
      } while (middle !== symbol);
    }
    this.value -= low;
    this.length = high - low;
    if (this.length < MIN_LENGTH) this.renormalize();
    ++model.symbolCount[symbol];
    if (--model.symbolsUntilUpdate === 0) model.update();
    return symbol;
  }

  readBits(bits) {
    if (bits > 19) {
      const low16 = this.readBits(16);
      return ((this.readBits(bits - 16) << 16) | low16) >>> 0;
    }
    this.length >>>= bits;
    const result = Math.floor(this.value / this.length);
    this.value -= this.length * result;
    if (this.length < MIN_LENGTH) this.renormalize();
    return result;
  }
}

// LASzip's IntegerCompressor configured as for the chunk table: 32-bit values,
// two contexts (point count, byte count), corrections coded by bit length.
class IntegerDecoder {
  constructor(decoder, contexts, bitsHigh = 8) {
    this.decoder = decoder;
    this.bitsHigh = bitsHigh;
    this.lengthModels = Array.from({ length: contexts }, () => new SymbolModel(33));
    this.zeroLengthModel = new BitModel();
    this.correctorModels = [null];
    for (let bits = 1; bits <= 32; ++bits) {
      this.correctorModels.push(new SymbolModel(1 << Math.min(bits, bitsHigh)));
    }
  }

  decompress(predicted, context) {
    return (predicted + this.readCorrector(this.lengthModels[context])) | 0;
  }

  readCorrector(lengthModel) {
    const bits = this.decoder.decodeSymbol(lengthModel);
    if (bits === 0) return this.decoder.decodeBit(this.zeroLengthModel);
    if (bits >= 32) return -0x80000000;
    let corrector = this.decoder.decodeSymbol(this.correctorModels[bits]);
    if (bits > this.bitsHigh) {
      const lowBits = bits - this.bitsHigh;
      corrector = corrector * 2 ** lowBits + this.decoder.readBits(lowBits);
    }
    // Corrections of bit length k cover [-(2^k - 1), -2^(k-1)] and [2^(k-1), 2^k].
    return corrector >= 2 ** (bits - 1) ? corrector + 1 : corrector - (2 ** bits - 1);
  }
}

export const VARIABLE_CHUNK_SIZE = 0xffffffff;

// Returns [{pointCount, byteOffset, byteLength}] in file order. For fixed-size
// chunks the table holds only byte counts and every chunk but the last is full.
export function readChunkTable(bytes, header, laszip, file) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const firstChunk = header.offsetToPoints + 8;
  const tableOffset = Number(view.getBigInt64(header.offsetToPoints, true));
  if (tableOffset < firstChunk || tableOffset + 8 > bytes.length) {
    throw new Error(`${file}: chunk table offset ${tableOffset} outside the file`);
  }
  const version = view.getUint32(tableOffset, true);
  const chunkCount = view.getUint32(tableOffset + 4, true);
  if (version !== 0) throw new Error(`${file}: chunk table version ${version} unknown`);
  if (chunkCount === 0) return [];
  const variable = laszip.chunkSize === VARIABLE_CHUNK_SIZE;
  const integers = new IntegerDecoder(new ArithmeticDecoder(bytes, tableOffset + 8), 2);
  const chunks = [];
  let offset = firstChunk;
  let previousCount = 0;
  let previousBytes = 0;
  let pointsLeft = header.pointCount;
  for (let i = 0; i < chunkCount; ++i) {
    const pointCount = variable
      ? integers.decompress(previousCount, 0)
      : Math.min(laszip.chunkSize, pointsLeft);
    const byteLength = integers.decompress(previousBytes, 1);
    chunks.push({ pointCount, byteOffset: offset, byteLength });
    offset += byteLength;
    pointsLeft -= pointCount;
    previousCount = pointCount;
    previousBytes = byteLength;
  }
  return chunks;
}
