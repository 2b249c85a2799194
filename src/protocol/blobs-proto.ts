/**
 * `meshos.v1.Blobs`, MeshOS's gRPC service for content-addressed blobs, served on the client port
 * beside etcd's services, Chains and Daemons; written as a JSON descriptor (see
 * proto-descriptor.ts). The same schema as .proto text is in docs/BLOBS.md.
 *
 * Put is a client stream (the first message carries `replicas`, every message a chunk of the
 * bytes); Get is a server stream (the first message carries the size and the serving copy's
 * node, every message a chunk).
 */
import { type GrpcServices, lazyServices } from './grpc-services.js';
import {
  bytes,
  field,
  meshosV1,
  message,
  repeated,
  rpc,
  string,
  uint32,
  uint64,
} from './proto-descriptor.js';

/** The service's descriptor (test/fuzz reads its message types). */
export const BLOBS_DESCRIPTOR = meshosV1({
  PutBlobRequest: message({ replicas: uint32(1), data: bytes(2) }),
  PutBlobResponse: message({
    id: string(1),
    size: uint64(2),
    replicas: uint32(3),
    holders: repeated('uint64', 4),
  }),
  BlobId: message({ id: string(1) }),
  GetBlobResponse: message({ size: uint64(1), source: uint64(2), data: bytes(3) }),
  BlobNodeHeat: message({ node: uint64(1), heat: field('double', 2) }),
  BlobStatus: message({
    id: string(1),
    size: uint64(2),
    replicas: uint32(3),
    holders: repeated('BlobNodeHeat', 4),
    readers: repeated('BlobNodeHeat', 5),
    heat: field('double', 6),
  }),
  ListBlobsRequest: message({}),
  ListBlobsResponse: message({ blobs: repeated('BlobStatus', 1) }),
  DeleteBlobResponse: message({}),
  Blobs: {
    methods: {
      Put: rpc('PutBlobRequest', 'PutBlobResponse', false, true),
      Get: rpc('BlobId', 'GetBlobResponse', true),
      Status: rpc('BlobId', 'BlobStatus'),
      List: rpc('ListBlobsRequest', 'ListBlobsResponse'),
      Delete: rpc('BlobId', 'DeleteBlobResponse'),
    },
  },
});

/** The service's full name in the package definition (and on the wire: `/meshos.v1.Blobs/Get`). */
export const BLOBS_SERVICE_NAME = 'meshos.v1.Blobs';

const loadBlobs = lazyServices(BLOBS_DESCRIPTOR);

/** The Blobs service's package definition, loaded once per process. */
export function blobsProtoDefinition(): GrpcServices {
  return loadBlobs();
}
