/**
 * A generic Thrift compact-protocol codec, just enough to edit Parquet footers and page headers. Structs decode to an
 * ordered field list that keeps every field, known or not, so re-encoding an unedited struct gives the same bytes.
 */

export const T = {
  BOOL_TRUE: 1,
  BOOL_FALSE: 2,
  I8: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

export interface TList {
  elemType: number;
  items: TValue[];
}
export interface TMap {
  keyType: number;
  valueType: number;
  entries: [TValue, TValue][];
}
export type TValue = boolean | number | bigint | Uint8Array | TList | TMap | TStruct;
export interface TField {
  id: number;
  /** Compact type; a boolean field is stored as BOOL_TRUE and its value says which. */
  type: number;
  value: TValue;
}
export type TStruct = TField[];

export class ThriftReader {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
  ) {}

  private byte(): number {
    if (this.pos >= this.buf.length) throw new RangeError(`thrift: read past end at ${this.pos}`);
    return this.buf[this.pos++]!;
  }

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new RangeError('thrift: varint too long');
    }
  }

  private zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  private value(type: number): TValue {
    switch (type) {
      case T.BOOL_TRUE:
        return this.byte() === 1;
      case T.BOOL_FALSE:
        return false;
      case T.I8: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case T.I16:
      case T.I32:
        return Number(this.zigzag());
      case T.I64:
        return this.zigzag();
      case T.DOUBLE: {
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case T.BINARY: {
        const len = Number(this.varint());
        const v = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        return v;
      }
      case T.LIST:
      case T.SET: {
        const head = this.byte();
        const size = head >> 4 === 15 ? Number(this.varint()) : head >> 4;
        const elemType = head & 0x0f;
        const items: TValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elemType));
        return { elemType, items };
      }
      case T.MAP: {
        const size = Number(this.varint());
        if (size === 0) return { keyType: 0, valueType: 0, entries: [] };
        const kv = this.byte();
        const keyType = kv >> 4;
        const valueType = kv & 0x0f;
        const entries: [TValue, TValue][] = [];
        for (let i = 0; i < size; i++) entries.push([this.value(keyType), this.value(valueType)]);
        return { keyType, valueType, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new RangeError(`thrift: unknown type ${type} at ${this.pos}`);
    }
  }

  struct(): TStruct {
    const fields: TStruct = [];
    let last = 0;
    for (;;) {
      const head = this.byte();
      if (head === 0) return fields;
      const type = head & 0x0f;
      const delta = head >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : last + delta;
      last = id;
      // A boolean field carries its value in the type nibble.
      const value = type === T.BOOL_TRUE ? true : type === T.BOOL_FALSE ? false : this.value(type);
      fields.push({ id, type: type === T.BOOL_FALSE ? T.BOOL_TRUE : type, value });
    }
  }
}

export class ThriftWriter {
  private chunks: number[] = [];

  private varint(n: bigint): void {
    let v = BigInt.asUintN(64, n);
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
  }

  private zigzag(n: bigint): void {
    this.varint((n << 1n) ^ (n >> 63n));
  }

  private value(type: number, v: TValue): void {
    switch (type) {
      case T.BOOL_TRUE:
      case T.BOOL_FALSE:
        this.chunks.push(v === true ? 1 : 2);
        return;
      case T.I8:
        this.chunks.push((v as number) & 0xff);
        return;
      case T.I16:
      case T.I32:
        this.zigzag(BigInt(v as number));
        return;
      case T.I64:
        this.zigzag(v as bigint);
        return;
      case T.DOUBLE: {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, v as number, true);
        this.chunks.push(...b);
        return;
      }
      case T.BINARY: {
        const b = v as Uint8Array;
        this.varint(BigInt(b.length));
        for (const x of b) this.chunks.push(x);
        return;
      }
      case T.LIST:
      case T.SET: {
        const l = v as TList;
        if (l.items.length < 15) this.chunks.push((l.items.length << 4) | l.elemType);
        else {
          this.chunks.push(0xf0 | l.elemType);
          this.varint(BigInt(l.items.length));
        }
        for (const item of l.items) this.value(l.elemType, item);
        return;
      }
      case T.MAP: {
        const m = v as TMap;
        this.varint(BigInt(m.entries.length));
        if (m.entries.length === 0) return;
        this.chunks.push((m.keyType << 4) | m.valueType);
        for (const [k, x] of m.entries) {
          this.value(m.keyType, k);
          this.value(m.valueType, x);
        }
        return;
      }
      case T.STRUCT:
        this.struct(v as TStruct);
        return;
      default:
        throw new RangeError(`thrift: unknown type ${type}`);
    }
  }

  struct(fields: TStruct): this {
    let last = 0;
    for (const f of fields) {
      const type = f.type === T.BOOL_TRUE ? (f.value === true ? T.BOOL_TRUE : T.BOOL_FALSE) : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.chunks.push((delta << 4) | type);
      else {
        this.chunks.push(type);
        this.zigzag(BigInt(f.id));
      }
      last = f.id;
      if (f.type !== T.BOOL_TRUE) this.value(f.type, f.value);
    }
    this.chunks.push(0);
    return this;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

export function field(s: TStruct, id: number): TValue | undefined {
  return s.find((f) => f.id === id)?.value;
}

/** Set or add a field, keeping ascending id order (the compact encoding's deltas rely on it only for size). */
export function setField(s: TStruct, id: number, type: number, value: TValue): void {
  const existing = s.find((f) => f.id === id);
  if (existing) {
    existing.value = value;
    existing.type = type;
    return;
  }
  const at = s.findIndex((f) => f.id > id);
  s.splice(at < 0 ? s.length : at, 0, { id, type, value });
}

export function deleteField(s: TStruct, id: number): void {
  const at = s.findIndex((f) => f.id === id);
  if (at >= 0) s.splice(at, 1);
}
