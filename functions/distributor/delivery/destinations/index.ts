import type { DeliveryConfig } from "../../../shared/delivery-config";
import type { LogObjectKey } from "../../admission/object-key";
import type { PutLogEventsLimits } from "./cloudwatch/batching";
import { CloudWatchDestination } from "./cloudwatch/cloudwatch";
import type { Destination, DestinationDeps } from "./destination";
import { S3CopyDestination } from "./s3-copy";

export type { Attempt, DeliveryRun, Destination, DestinationDeps } from "./destination";
export { targetOf } from "./destination";

/** The destination a delivery config names, for one object's key. */
export function destinationFor(
  config: DeliveryConfig,
  key: LogObjectKey,
  region: string,
  limits: PutLogEventsLimits,
  deps: DestinationDeps,
): Destination {
  return config.type === "cloudwatch"
    ? new CloudWatchDestination(config, key, region, limits, deps)
    : new S3CopyDestination(config, key, region, deps);
}
