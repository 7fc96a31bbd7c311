import { execute } from "@bpinternal/verel";
import { collectorProgram, interpolate } from "../../stacks/collector/templates";

/** The agent's environment as the cluster stack sets it. */
export const AGENT_ENV = {
  LOGRELAY_CLUSTER_ID: "rosa-prod-1",
  LOGRELAY_TENANT_LABEL: "logrelay.io/tenant-id",
};

/** The collector's VRL program as the agent compiles it (variables substituted). */
export const agentProgram = interpolate(collectorProgram(), AGENT_ENV);

/** One Kubernetes log event through the real VRL runtime: the staged record (or a quarantined one). */
export const runCollector = (event: unknown) => execute(agentProgram, event).event as Record<string, unknown>;
