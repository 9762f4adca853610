// The protobuf media type, apart from the decoder: the server names it on every request's
// content negotiation, but loads the decoder (and its descriptors) only for a protobuf body.
export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
