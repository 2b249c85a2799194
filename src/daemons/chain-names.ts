/**
 * The chains a deployed daemon runs on: one inbound chain (the order every member applies events
 * in) and one output chain (what the active produced). Their names derive from the daemon's, so
 * any node finds them without a lookup.
 */

export function inboundChainName(daemon: string): string {
  return `daemon.${daemon}.inbound`;
}

export function outputChainName(daemon: string): string {
  return `daemon.${daemon}.outputs`;
}

/** Both of a daemon's chains, inbound first (deploy creates, failover leads, remove deletes both). */
export function daemonChainNames(daemon: string): readonly [string, string] {
  return [inboundChainName(daemon), outputChainName(daemon)];
}
