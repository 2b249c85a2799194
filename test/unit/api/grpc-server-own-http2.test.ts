/** MeshOS's gRPC server on its own HTTP/2 connection (`src/api/http2/`; the suite is `grpc-server-suite.ts`). */
import { hpackJsCodec } from '../../support/hpack-js-codec.js';
import { grpcServerSuite } from './grpc-server-suite.js';

grpcServerSuite(hpackJsCodec);
