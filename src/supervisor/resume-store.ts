/**
 * Where drained children's resume state goes. A child that requires resume state hands it back
 * from its drain; the supervisor saves it here before stopping the child and gives it back to
 * the child's next start through `ChildContext.resumeState`. Keys are `supervisor-path/child`.
 */
export interface ResumeStateStore {
  save(key: string, state: unknown): Promise<void>;
  load(key: string): Promise<unknown>;
}

/** Keeps resume state in memory: survives restarts of a child, not of the process. */
export class MemoryResumeStateStore implements ResumeStateStore {
  private readonly states = new Map<string, unknown>();

  async save(key: string, state: unknown): Promise<void> {
    this.states.set(key, state);
  }

  async load(key: string): Promise<unknown> {
    return this.states.get(key);
  }

  keys(): string[] {
    return [...this.states.keys()];
  }
}
