// Protobuf request bodies for the API server: decoding plus the mapping of failures to API errors.
import { ApiError, badRequest } from '../errors.ts';
import { decodeProtobufBody, ProtobufDecodeError, UnsupportedProtobufKindError } from './decode.ts';

export { decodeProtobufBody, decodeObject, messageKeyFor, ProtobufDecodeError, UnsupportedProtobufKindError, PROTOBUF_MAGIC } from './decode.ts';

export { PROTOBUF_MEDIA_TYPE } from './media-type.ts';

/** decodeProtobufBody for a request: unknown kinds are 415 UnsupportedMediaType, garbled bodies 400. */
export function parseProtobufRequestBody(buf: Buffer): Record<string, any> {
  try {
    return decodeProtobufBody(buf);
  } catch (err) {
    if (err instanceof UnsupportedProtobufKindError) throw new ApiError(415, 'UnsupportedMediaType', err.message);
    if (err instanceof ProtobufDecodeError) throw badRequest(`unable to decode the protobuf body: ${err.message}`);
    throw err;
  }
}
