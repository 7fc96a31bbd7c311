import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { AwsDestinationValidator } from "../shared/destination-checks";
import { StsCredentialBroker } from "../shared/sts-credential-broker";
import {
  DynamoDbAuditTrail,
  DynamoDbConfigRepository,
  DynamoDbRegistryRepository,
} from "./adapters/dynamodb-repository";
import { makeRouter } from "./router";
import { TenantConfigService } from "./service";
import type { ApiSettings } from "./settings";

/** Builds the service with real clients, once per process (Lambda cold start, local server, CLI). */
export function createService(settings: ApiSettings): TenantConfigService {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: settings.AWS_REGION }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const broker = new StsCredentialBroker({
    region: settings.AWS_REGION,
    centralRoleArn: settings.CENTRAL_LOG_DISTRIBUTION_ROLE_ARN,
    sessionName: "logrelay-validate",
  });
  const audit = new DynamoDbAuditTrail(db, settings.AUDIT_TABLE, settings.AUDIT_RETENTION_DAYS);
  return new TenantConfigService({
    configs: new DynamoDbConfigRepository(db, settings.TENANT_CONFIG_TABLE, audit),
    registry: new DynamoDbRegistryRepository(db, settings.TENANT_REGISTRY_TABLE, audit),
    validator: new AwsDestinationValidator(
      broker,
      settings.AWS_REGION,
      settings.CENTRAL_LOG_DISTRIBUTION_ROLE_ARN,
    ),
    audit,
  });
}

export const createRouter = (settings: ApiSettings) => makeRouter(createService(settings));
