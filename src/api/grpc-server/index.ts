export { type AuthContext, authContextOf } from './auth-context.js';
export { GrpcServer, type GrpcServerOptions } from './grpc-server.js';
export { parseGrpcTimeout } from './grpc-timeout.js';
export { frameMessage, MessageReader, MessageTooLargeError } from './message-framing.js';
export type { RequestMetadata } from './request-metadata.js';
export { percentEncode } from './status-headers.js';
