export { reconnectDelayMs } from './backoff.js';
export { decodeBatch, encodeMessagesFrame } from './batch.js';
export {
  CA_VALIDITY_DAYS,
  CertificateError,
  certificateFiles,
  createClusterCa,
  ensureNodeCertificate,
  issueClientCertificate,
  issueNodeCertificate,
  LOOPBACK_HOSTS,
  loadTlsMaterial,
  NODE_CERTIFICATE_VALIDITY_DAYS,
  type TlsMaterial,
} from './certs.js';
export { encodeFrame, type Frame, FrameType } from './frame.js';
export { FrameDecoder } from './frame-decoder.js';
export { FrameError, type FrameProblem } from './frame-error.js';
export { decodeHandshake, encodeHandshake, type Handshake } from './handshake.js';
export { nodeCommonName, nodeIdFromCertificate, nodeUri } from './identity.js';
export {
  BATCH_TARGET_BYTES,
  FRAME_HEADER_BYTES,
  HANDSHAKE_TIMEOUT_MS,
  MAX_BATCH_MESSAGES,
  MAX_FRAME_BYTES,
  MAX_FRAME_PAYLOAD_BYTES,
  MAX_INBOUND_CONNECTIONS,
  MAX_MESSAGE_BYTES,
  PEER_SEND_QUEUE_BYTES,
  PEER_SEND_QUEUE_MESSAGES,
  PROTOCOL_VERSION,
  RECONNECT_BACKOFF_MAX_MS,
  RECONNECT_BACKOFF_MIN_MS,
} from './limits.js';
export {
  InMemoryNetwork,
  type InMemoryNetworkOptions,
  MEMORY_STREAM_HIGH_WATER_BYTES,
} from './memory-network.js';
export { createTcpTransport, type TcpTransportOptions } from './node-transport.js';
export {
  DEFAULT_PEER_SET_OWNER,
  type MessageHandler,
  PeerTransport,
  type PeerTransportOptions,
  type TransportSecurity,
  validatePeerTransportOptions,
} from './peer-transport.js';
export {
  REFUSAL_REASONS,
  REFUSED_BY_PEER_REASONS,
  type RefusalReason,
  type RefusedByPeerReason,
} from './refusal.js';
export { mutualTlsOptions } from './tls-options.js';
export { DROP_REASONS, type DropReason, type TransportCounters } from './transport-context.js';
