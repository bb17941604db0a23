import type { KeyRotationPolicy } from '../keys/rotation-policy.js';

/**
 * What the overview reads beside storage, provided where the server is composed (boot/): this
 * process's recent token endpoint activity, the shared state, and the rotation schedule.
 */
export interface OverviewSources {
  startedAt: number;
  activity: {
    snapshot(top: number): {
      minutes: { minute: number; issued: number; failed: number }[];
      failuresByReason: { reason: string; count: number }[];
      busiestClients: { clientId: string; issued: number }[];
      failingClients: { clientId: string; failed: number; lastError: string }[];
    };
  };
  sharedState: { kind: string; check(): Promise<unknown> };
  /** Undefined when this process does not rotate keys on a schedule. */
  rotationPolicy: KeyRotationPolicy | undefined;
}
