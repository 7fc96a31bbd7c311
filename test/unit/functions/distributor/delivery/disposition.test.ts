import { type DeliveryMode, disposition } from "../../../../../functions/distributor/delivery/disposition";
import {
  BreakerOpenError,
  ClaimLostError,
  CorruptObjectError,
  DeadlineReachedError,
  DestinationDeniedError,
  InvalidConfigError,
  ObjectNotFoundError,
} from "../../../../../functions/distributor/errors";
import { CustomerRoleRefusedError } from "../../../../../functions/shared/credentials";
import { awsError } from "../../../../harness/factories";

const failures: Record<string, unknown> = {
  "throttling (SDK-shaped)": awsError("ThrottlingException", 400),
  "a 5xx": awsError("InternalFailure", 500),
  "a connection reset": Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
  "the deadline": new DeadlineReachedError("time budget reached"),
  "a lost claim": new ClaimLostError("taken over"),
  "the customer role refuses": new CustomerRoleRefusedError("AccessDenied on AssumeRole"),
  "the log group refuses": new DestinationDeniedError("CloudWatch Logs refused /x"),
  "the breaker is open": new BreakerOpenError("destination parked since ..."),
  "the staged object is gone": new ObjectNotFoundError("b", "k"),
  "a corrupt object": new CorruptObjectError("not gzip"),
  "an invalid config": new InvalidConfigError("log_group_name: ..."),
};

const transient = { action: "release", status: "failed_transient" };
const permanent = { action: "release", status: "failed_permanent" };
const park = { action: "park", counted: true };
const parkUncounted = { action: "park", counted: false };
const lose = { action: "lose" };

// failure, [new with parking, new without parking, parked redelivery]
const table: [string, [object, object, object]][] = [
  ["throttling (SDK-shaped)", [transient, transient, transient]],
  ["a 5xx", [transient, transient, transient]],
  ["a connection reset", [transient, transient, transient]],
  ["the deadline", [transient, transient, transient]],
  ["a lost claim", [transient, transient, transient]],
  ["the customer role refuses", [park, permanent, park]],
  ["the log group refuses", [park, permanent, park]],
  ["the breaker is open", [parkUncounted, permanent, parkUncounted]],
  ["the staged object is gone", [permanent, permanent, lose]],
  ["a corrupt object", [permanent, permanent, lose]],
  ["an invalid config", [permanent, permanent, lose]],
];

describe("disposition: what becomes of a delivery that did not complete", () => {
  it("covers every failure in the table", () => {
    expect(table.map(([name]) => name).sort()).toEqual(Object.keys(failures).sort());
  });

  const cases = table.flatMap(([name, [newParking, newNoParking, parked]]) => [
    [name, "new", true, newParking] as const,
    [name, "new", false, newNoParking] as const,
    [name, "parked", true, parked] as const,
  ]);
  it.each(cases)("%s, mode %s, can park %s -> %j", (name, mode, canPark, expected) => {
    expect(disposition(failures[name], mode as DeliveryMode, canPark)).toEqual(expected);
  });
});
