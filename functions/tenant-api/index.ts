import { Logger } from "@aws-lambda-powertools/logger";
import { makeApiHandler } from "./handler";
import { loadApiSettings } from "./settings";
import { createRouter } from "./wiring";

const settings = loadApiSettings();
export const handler = makeApiHandler(
  createRouter(settings),
  new Logger({ serviceName: settings.POWERTOOLS_SERVICE_NAME }),
);
