/**
 * `DaemonScaleClient`: what `meshos daemon scale` does, for programs (docs/RECONCILE.md "Member
 * counts apart from the definition"). The operator's count is desired state in
 * `reconcile/desired/<daemon>`; the reconciler starts (`StartDaemon`) or stops (`StopDaemon`, the
 * active last) members of a standby or fork daemon until its definition places that many. It talks
 * to the control plane directly, as `AvoidClient` does.
 */
import { type ControlPlane, encodeRecord, reconcileDesiredKey } from '../control/index.js';
import { memberCountRange } from '../daemons/definition-codec.js';
import { DaemonDirectory } from '../daemons/directory.js';
import type { DaemonGroupKind } from '../daemons/types.js';
import { MeshError } from '../lib/index.js';
import { type MaintenanceClientOptions, openOperatorPlane } from './maintenance-client.js';
import { readDesiredMembers } from './reconcile-records.js';

/** `meshos daemon scale --json` prints this. */
export interface DaemonScaleResult {
  readonly name: string;
  readonly group: DaemonGroupKind;
  /** The count asked for (stored in `reconcile/desired/<daemon>`). */
  readonly members: number;
  /** How many members the definition places now (reconcile moves it towards `members`). */
  readonly placed: number;
}

/** A count that is not one the daemon can have: not an integer, out of its group's range, or a group that does not scale. */
export class DaemonScaleInvalidError extends MeshError {
  constructor(name: string, reason: string) {
    super('DAEMON_SCALE_INVALID', `daemon scale ${name}: ${reason}`, { details: { name, reason } });
  }
}

export class DaemonScaleClient {
  private readonly directory: DaemonDirectory;

  constructor(
    private readonly plane: ControlPlane,
    private readonly ownsPlane = false,
  ) {
    this.directory = new DaemonDirectory(plane);
  }

  static async connect(options: MaintenanceClientOptions): Promise<DaemonScaleClient> {
    const { plane } = await openOperatorPlane(options);
    return new DaemonScaleClient(plane, true);
  }

  /** Asks that daemon `name` have `members` members; DAEMON_NOT_FOUND, DAEMON_SCALE_INVALID. */
  async scale(name: string, members: number): Promise<DaemonScaleResult> {
    const { definition } = await this.directory.require(name);
    const { group } = definition;
    if (group === 'single' || group === 'replica')
      throw new DaemonScaleInvalidError(
        name,
        group === 'single'
          ? 'a single daemon has one member (deploy a standby group to have more)'
          : 'a replica group is not scaled (its members are its key-hash shares)',
      );
    const [min, max] = memberCountRange(group);
    if (!Number.isSafeInteger(members) || members < min || members > max)
      throw new DaemonScaleInvalidError(
        name,
        `a ${group} group has ${min} to ${max} members, got ${members}`,
      );
    const key = reconcileDesiredKey(name);
    await this.plane.put(key, encodeRecord(key, { members }));
    return { name, group, members, placed: definition.members.length };
  }

  /** The operator's count for `name`, if one was asked for. */
  async desired(name: string): Promise<number | undefined> {
    return readDesiredMembers(this.plane, name);
  }

  async close(): Promise<void> {
    if (this.ownsPlane) await this.plane.close();
  }
}
