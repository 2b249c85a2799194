/** Typed errors of member checkpoints: kept on a node's disk, fetched from a peer member. */
import { MeshError } from '../lib/index.js';

/** Bytes that are not a whole, undamaged checkpoint (torn file, bad transfer, unknown format). */
export class DaemonCheckpointInvalidError extends MeshError {
  constructor(subject: string, problem: string) {
    super('DAEMON_CHECKPOINT_INVALID', `${subject} is not a valid member checkpoint: ${problem}`, {
      details: { subject, problem },
    });
  }
}

/** No checkpoint could be had from a peer member; the caller replays the inbound chain instead. */
export class DaemonCheckpointUnavailableError extends MeshError {
  constructor(name: string, reason: string, cause?: unknown) {
    super('DAEMON_CHECKPOINT_UNAVAILABLE', `no checkpoint of daemon ${name}: ${reason}`, {
      details: { name, reason },
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
