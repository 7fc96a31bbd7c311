import type { DeliveryConfig } from "../../../shared/delivery-config";
import type { LogObjectKey } from "../../admission/object-key";
import { Shaper } from "../../shaping/shaper";
import type { PutLogEventsLimits } from "./cloudwatch/batching";
import { CloudWatchDestination } from "./cloudwatch/cloudwatch";
import type { Destination, DestinationDeps } from "./destination";
import { FirehoseDestination } from "./firehose";
import { S3CopyDestination } from "./s3-copy";
import { S3RewriteDestination } from "./s3-rewrite";

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
  switch (config.type) {
    case "cloudwatch":
      return new CloudWatchDestination(config, key, region, limits, deps);
    case "s3": {
      // With rules the object is read and rewritten; without, copied as it is.
      const shaper = Shaper.of(config);
      return shaper
        ? new S3RewriteDestination(config, key, region, deps, shaper)
        : new S3CopyDestination(config, key, region, deps);
    }
    case "firehose":
      return new FirehoseDestination(config, key, region, deps);
  }
}
