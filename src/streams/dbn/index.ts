/**
 * DBN (Databento Binary Encoding) reader and writer: see spec/DBN.md.
 */
export * from './constants.js';
export { DbnError } from './errors.js';
export type { DbnMetadata, MappingInterval, SymbolMapping } from './metadata.js';
export type {
  BidAskPair,
  DbnRecord,
  DbnRecordKind,
  ErrorMsg,
  InstrumentDefMsg,
  Mbp10Msg,
  Mbp1Msg,
  RecordHeader,
  SymbolMappingMsg,
  SystemMsg,
  TradeMsg,
} from './records.js';
export { DbnDecoder, decodeDbnBuffer, openDbnFile, type ByteSource, type DecodeOptions } from './decoder.js';
export {
  DbnEncoder,
  encodeDbn,
  encodeMetadata,
  writeDbnFile,
  type EncodableRecord,
  type EncodeOptions,
  type MetadataInput,
} from './encoder.js';
export { formatPrice, metadataToJson, printDbn, recordToJson, type PrintOptions } from './print.js';
