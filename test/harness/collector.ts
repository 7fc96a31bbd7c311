import { execute } from "@bpinternal/verel";
import { collectorProgram, heartbeatProgram, interpolate } from "../../stacks/collector/templates";

/** The agent's environment as the cluster stack sets it. */
export const AGENT_ENV = {
  LOGRELAY_CLUSTER_ID: "rosa-prod-1",
  LOGRELAY_TENANT_LABEL: "logrelay.io/tenant-id",
  LOGRELAY_HEARTBEAT_TENANT: "logrelay-heartbeat",
};

/** The collector's VRL program as the agent compiles it (variables substituted). */
export const agentProgram = interpolate(collectorProgram(), AGENT_ENV);

/** One Kubernetes log event through the real VRL runtime: the staged record (or a quarantined one). */
export const runCollector = (event: unknown) => execute(agentProgram, event).event as Record<string, unknown>;

/** The heartbeat's VRL program as the agent compiles it. */
export const heartbeatAgentProgram = interpolate(heartbeatProgram(), AGENT_ENV);

/** One event of the heartbeat source through the real VRL runtime. */
export const runHeartbeat = (event: unknown) =>
  execute(heartbeatAgentProgram, event).event as Record<string, unknown>;
