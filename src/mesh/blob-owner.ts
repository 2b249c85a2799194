/**
 * The reconcile executor's `blobs` owner (docs/BLOBS.md, docs/RECONCILE.md): it carries out
 * `MigrateBlob` (make `to` hold a checked copy, fetched from `from` or another holder, record it,
 * then drop `from`'s copy unless `keepSource`), `DropBlobCopy` (MeshOS's own: the record leaves
 * the node, never below the replica count, and the node deletes its copy) and `ReduceHeat` (take `by` off the blob's heat,
 * once per action id) through the node's blobs. Both are idempotent: a migration whose target is
 * already a holder copies nothing, and a source already dropped is dropped again as a no-op; a
 * cooling already applied for the action's id changes nothing. Every node's blobs reach the
 * others over the blobs channel, so the owner on the reconciler's node carries out every blobs
 * action itself.
 */
import { BlobServiceUnavailableError } from '../blobs/index.js';
import type { ControlCompare } from '../control/index.js';
import { AssertionError, type Logger } from '../lib/index.js';
import type { ActionHandler, ActionId, PendingAction } from '../reconcile/index.js';
import type { BlobActions } from './blob-node.js';

export class BlobsOwner {
  constructor(
    /** The node's blobs; undefined while its blobs service does not run (actions fail then). */
    private readonly blobs: () => BlobActions | undefined,
  ) {}

  /**
   * Carries the action out; resolves once done, rejects with why not. `fence` (the reconciler's
   * term) joins every record write, so a change for an ended term is refused.
   */
  async carryOut({ id, action }: PendingAction, fence: readonly ControlCompare[] = []): Promise<void> {
    const blobs = this.blobs();
    if (blobs === undefined)
      throw new BlobServiceUnavailableError('the blobs service of this node is not running');
    switch (action.kind) {
      case 'MigrateBlob':
        return blobs.migrate(action.blob, action.from, action.to, action.keepSource, fence);
      case 'DropBlobCopy':
        return blobs.dropCopy(action.blob, action.node, fence);
      case 'ReduceHeat':
        return blobs.reduceHeat(action.blob, action.by, id, fence);
      default:
        throw new AssertionError(`the blobs owner was handed a ${action.kind}`);
    }
  }
}

/** How a handler answers the executor (ActionExecutor.complete / fail with its clock's time). */
export interface ActionReport {
  complete(id: ActionId): void;
  fail(id: ActionId, reason: string): void;
}

/** The owner as an `ActionExecutor` handler: it answers through `report` once the action is done or failed. */
export function blobsActionHandler(owner: BlobsOwner, report: ActionReport, logger?: Logger): ActionHandler {
  return {
    handle(pending) {
      owner.carryOut(pending).then(
        () => report.complete(pending.id),
        (error: unknown) => {
          logger?.warn({ err: error, action: pending.id }, 'blobs owner: an action failed');
          report.fail(pending.id, error instanceof Error ? error.message : String(error));
        },
      );
    },
  };
}
