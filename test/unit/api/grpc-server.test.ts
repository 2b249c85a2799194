/** MeshOS's gRPC server on node:http2 (the suite is `grpc-server-suite.ts`). */
import { grpcServerSuite } from './grpc-server-suite.js';

grpcServerSuite();
