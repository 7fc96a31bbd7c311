import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { AwsDestinationValidator } from "../shared/destination-checks";
import { StsCredentialBroker } from "../shared/sts-credential-broker";
import { DynamoDbConfigRepository, DynamoDbRegistryRepository } from "./adapters/dynamodb-repository";
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
  return new TenantConfigService(
    new DynamoDbConfigRepository(db, settings.TENANT_CONFIG_TABLE),
    new DynamoDbRegistryRepository(db, settings.TENANT_REGISTRY_TABLE),
    new AwsDestinationValidator(broker, settings.AWS_REGION, settings.CENTRAL_LOG_DISTRIBUTION_ROLE_ARN),
  );
}

export const createRouter = (settings: ApiSettings) => makeRouter(createService(settings));
