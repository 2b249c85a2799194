/** MeshOS's gRPC server on its own HTTP/2 connection (`src/api/http2/`; the suite is `grpc-server-suite.ts`). */
import { HPACK_CODEC } from '../../../src/api/http2/header-codec.js';
import { grpcServerSuite } from './grpc-server-suite.js';

grpcServerSuite(HPACK_CODEC);
