// SPDY/3.1 for Kubernetes' streaming protocols (exec, attach, port-forward), client and server,
// over any Duplex. See connection.ts for the interoperability choices.
export { SpdyConnection, SpdyStream } from './connection.ts';
export type { SpdyConnectionOptions, OpenStreamOptions, SpdyConnectionEvents } from './connection.ts';
export { headerValue, SpdyProtocolError, HeaderCompressor, HeaderDecompressor, encodeHeaderBlock, decodeHeaderBlock } from './headers.ts';
export type { SpdyHeaders } from './headers.ts';
export { encodeFrame, FrameDecoder, FrameType, RstStatus, GoAwayStatus, SettingsId, DEFAULT_WINDOW } from './frames.ts';
export type { Frame, Setting } from './frames.ts';
export { SPDY3_DICTIONARY } from './dictionary.ts';
export {
  spdyUpgrade,
  UpgradeError,
  negotiateStreamProtocol,
  offeredStreamProtocols,
  isSpdyUpgrade,
  acceptSpdyUpgrade,
  SPDY_UPGRADE,
  STREAM_PROTOCOL_HEADER,
} from './upgrade.ts';
export type { SpdyUpgradeOptions, SpdyUpgradeResult } from './upgrade.ts';
