/**
 * The admin documents' schema (a JSON Schema subset: type, properties, required, items, enum,
 * const), written beside their types in `admin-documents.ts` and checked against live nodes
 * (test/deck). `meshos admin-schema` prints it; docs/ADMIN_API.md describes each document.
 * Objects may carry fields the schema does not name (additions keep the version).
 */
import { ADMIN_SCHEMA_VERSION } from './admin-documents.js';

export interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly items?: SchemaNode;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly description?: string;
}

const integer: SchemaNode = { type: 'integer' };
const number: SchemaNode = { type: 'number' };
const string: SchemaNode = { type: 'string' };
const boolean: SchemaNode = { type: 'boolean' };
const nodeId: SchemaNode = { type: 'integer', description: 'a node id (0: none)' };
const version: SchemaNode = { const: ADMIN_SCHEMA_VERSION };

const object = (properties: Record<string, SchemaNode>, optional: readonly string[] = []): SchemaNode => ({
  type: 'object',
  properties,
  required: Object.keys(properties).filter((key) => !optional.includes(key)),
});
const list = (items: SchemaNode): SchemaNode => ({ type: 'array', items });
const documentOf = (properties: Record<string, SchemaNode>, optional: readonly string[] = []) =>
  object({ schemaVersion: version, ...properties }, optional);

const maintenanceState = object({
  phase: {
    enum: ['Active', 'EnteringMaintenance', 'Maintenance', 'ExitingMaintenance', 'Recovery', 'DrainFailed'],
  },
});

const nodes = documentOf({
  reporter: nodeId,
  nodes: list(
    object(
      {
        id: nodeId,
        name: string,
        role: { enum: ['voter', 'worker'] },
        zone: string,
        health: { enum: ['alive', 'suspect', 'gone'] },
        version: string,
        leaseId: integer,
        addresses: object({ peer: string, admin: string }),
      },
      [],
    ),
  ),
});

const rtt = documentOf({
  reporter: nodeId,
  rows: list(
    object({
      node: nodeId,
      publishedAtMs: number,
      fresh: boolean,
      peers: list(object({ node: nodeId, rttMs: number, healthy: boolean }, ['rttMs'])),
    }),
  ),
});

const maintenance = documentOf({ nodes: list(object({ node: nodeId, state: maintenanceState })) });

const consensus = documentOf({
  reporter: nodeId,
  role: string,
  term: integer,
  leaderId: nodeId,
  commitIndex: integer,
  appliedIndex: integer,
  members: list(
    object(
      {
        id: nodeId,
        voter: boolean,
        match: integer,
        lag: integer,
        state: string,
        commit: integer,
        applied: integer,
      },
      ['match', 'lag', 'state', 'commit', 'applied'],
    ),
  ),
  elections: list(object({ term: integer, leaderId: nodeId, atWallMs: integer })),
});

const daemonStatus = {
  name: string,
  kind: string,
  group: string,
  epoch: integer,
  inboundThrough: integer,
  members: list(
    object({
      index: integer,
      node: nodeId,
      role: { enum: ['active', 'standby', 'replica'] },
      syncedThrough: integer,
      healthy: boolean,
    }),
  ),
  desiredMembers: integer,
};

const daemons = documentOf({
  daemons: list(object({ ...daemonStatus, eventsPerSecond: number }, ['eventsPerSecond', 'desiredMembers'])),
  omitted: integer,
});

const chainReplica = object({ node: nodeId, offset: integer, lag: integer, healthy: boolean });
const chains = documentOf({
  chains: list(
    object(
      {
        name: string,
        epoch: integer,
        leader: nodeId,
        acks: string,
        replicas: list(chainReplica),
        learners: list(chainReplica),
        commitOffset: integer,
        startOffset: integer,
      },
      ['learners'],
    ),
  ),
  omitted: integer,
});

const actionsFields = {
  actions: list(object({ epoch: integer, id: integer, node: nodeId, state: string, deferrals: integer })),
  counts: { type: 'object' },
  queueLatency: object({ count: integer }),
  currentEpoch: integer,
};
const actionsReport = object(actionsFields);

const reconcile = documentOf({
  reconcilerNode: nodeId,
  actions: actionsReport,
  audit: list(
    object({
      seq: integer,
      node: nodeId,
      epoch: integer,
      atWallMs: integer,
      entry: object({ type: string }),
    }),
  ),
  backoffs: list(object({ daemon: string, node: nodeId, untilWallMs: integer })),
  avoid: list(object({ node: nodeId, reason: string, untilWallMs: integer })),
});

const parts = ['nodes', 'rtt', 'maintenance', 'consensus', 'daemons', 'chains', 'reconcile'];

/** Every document by the admin path that serves it. */
export const ADMIN_SCHEMA: Readonly<Record<string, SchemaNode>> = {
  '/nodes': nodes,
  '/mesh/rtt': rtt,
  '/maintenance': maintenance,
  '/consensus': consensus,
  '/daemons': daemons,
  '/chains': chains,
  '/reconcile': reconcile,
  '/deck/snapshot': documentOf(
    {
      reporter: nodeId,
      reporterRole: { enum: ['voter', 'worker'] },
      atWallMs: integer,
      nodes,
      rtt,
      maintenance,
      consensus,
      daemons,
      chains,
      reconcile,
      problems: list(string),
    },
    parts,
  ),
  /** `meshos actions --json`. */
  actions: documentOf(actionsFields),
  /** `meshos node maintenance ... --json` and `POST /actions/maintenance`. */
  'maintenance-status': documentOf({
    node: nodeId,
    state: maintenanceState,
    changedAtWallMs: integer,
    holdings: object({ daemons: list({ type: 'object' }), chains: list({ type: 'object' }) }),
    empty: boolean,
  }),
};

const typeOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
};

/** Every place `value` differs from `schema`, as `path: problem`; empty when it conforms. */
export function schemaProblems(schema: SchemaNode, value: unknown, at = '$'): string[] {
  const problems: string[] = [];
  if (schema.const !== undefined && value !== schema.const)
    problems.push(`${at}: must be ${JSON.stringify(schema.const)}, is ${JSON.stringify(value)}`);
  if (schema.enum !== undefined && !schema.enum.includes(value))
    problems.push(`${at}: must be one of ${JSON.stringify(schema.enum)}, is ${JSON.stringify(value)}`);
  if (schema.type !== undefined) {
    const allowed = typeof schema.type === 'string' ? [schema.type] : schema.type;
    const actual = typeOf(value);
    const fits = allowed.includes(actual) || (actual === 'integer' && allowed.includes('number'));
    if (!fits) return [...problems, `${at}: must be ${allowed.join(' or ')}, is ${actual}`];
  }
  if (typeOf(value) === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? [])
      if (!Object.hasOwn(record, key)) problems.push(`${at}.${key}: missing`);
    for (const [key, child] of Object.entries(schema.properties ?? {}))
      if (Object.hasOwn(record, key) && record[key] !== undefined)
        problems.push(...schemaProblems(child, record[key], `${at}.${key}`));
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    for (const [index, item] of value.entries())
      problems.push(...schemaProblems(schema.items, item, `${at}[${index}]`));
  }
  return problems;
}
