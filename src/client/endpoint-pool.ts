/**
 * The endpoints a client knows, which one it believes is the leader, and the order it tries them
 * in: the leader first when known, otherwise round-robin from the last endpoint that worked.
 */
import type * as grpc from '@grpc/grpc-js';
import { assert } from '../lib/index.js';
import { EndpointConnection } from './endpoint.js';
import { MAX_ENDPOINTS } from './limits.js';

export class EndpointPool {
  private readonly ordered: string[] = [];
  private readonly connections = new Map<string, EndpointConnection>();
  private cursor = 0;
  private leaderAddress: string | undefined;

  constructor(
    addresses: readonly string[],
    private readonly interceptors: readonly grpc.Interceptor[],
    private readonly credentials: grpc.ChannelCredentials,
  ) {
    for (const address of addresses) this.add(address);
    assert(this.ordered.length > 0, 'an endpoint pool needs at least one endpoint');
  }

  get addresses(): readonly string[] {
    return this.ordered;
  }

  get leader(): string | undefined {
    return this.leaderAddress;
  }

  /** Adds an endpoint (learned from the member list); ignored once the pool is full. */
  add(address: string): boolean {
    if (this.ordered.includes(address)) return true;
    if (this.ordered.length >= MAX_ENDPOINTS) return false;
    this.ordered.push(address);
    return true;
  }

  setLeader(address: string | undefined): void {
    if (address !== undefined && !this.add(address)) return;
    this.leaderAddress = address;
  }

  /** The endpoint for the next attempt. */
  pick(): string {
    if (this.leaderAddress !== undefined) return this.leaderAddress;
    const address = this.ordered[this.cursor % this.ordered.length];
    assert(address !== undefined, 'pool is never empty');
    return address;
  }

  /** An attempt at `address` failed in a way another endpoint may not: move on from it. */
  failed(address: string): void {
    if (this.leaderAddress === address) this.leaderAddress = undefined;
    const position = this.ordered.indexOf(address);
    if (position >= 0 && position === this.cursor % this.ordered.length) {
      this.cursor = (position + 1) % this.ordered.length;
    }
  }

  /** The connection to `address`, opened on first use. */
  connection(address: string): EndpointConnection {
    let connection = this.connections.get(address);
    if (connection === undefined) {
      this.evictOneStranger();
      connection = new EndpointConnection(address, this.interceptors, this.credentials);
      this.connections.set(address, connection);
    }
    return connection;
  }

  /**
   * Connections to endpoints outside the pool (asked for one status) are kept up to a bound;
   * past it the oldest such connection is closed.
   */
  private evictOneStranger(): void {
    if (this.connections.size < 2 * MAX_ENDPOINTS) return;
    for (const [address, connection] of this.connections) {
      if (this.ordered.includes(address)) continue;
      connection.close();
      this.connections.delete(address);
      return;
    }
  }

  closeAll(): void {
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }
}
