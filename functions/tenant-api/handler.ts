import type { Logger } from "@aws-lambda-powertools/logger";
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { ApiRequest, ApiResponse } from "./router";

type Route = (req: ApiRequest) => Promise<ApiResponse>;

/** The API Gateway event as the router's request: path, query, decoded body. */
export function toApiRequest(event: APIGatewayProxyEventV2WithIAMAuthorizer): ApiRequest {
  const actor = event.requestContext.authorizer?.iam?.userArn;
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, "base64").toString("utf8")
        : event.body;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: event.queryStringParameters ?? {},
    ...(body !== undefined && { body }),
    ...(actor && { actor }),
  };
}

/**
 * Lambda handler behind the HTTP API (IAM-authorized routes). One access line per request with
 * caller, route, tenant and status; bodies are never logged (they hold ExternalIds and role ARNs).
 */
export function makeApiHandler(route: Route, logger: Pick<Logger, "info" | "error">) {
  return async (
    event: APIGatewayProxyEventV2WithIAMAuthorizer,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const started = Date.now();
    const caller = event.requestContext.authorizer?.iam?.userArn ?? "(unknown)";
    let response: ApiResponse;
    try {
      response = await route(toApiRequest(event));
    } catch (error) {
      logger.error("request failed", {
        caller,
        method: event.requestContext.http.method,
        path: event.rawPath,
        error: (error as Error).name,
      });
      return json(500, {
        error: {
          code: "InternalError",
          message: "internal error; see the API's logs",
          request_id: event.requestContext.requestId,
        },
      });
    }
    logger.info("request", {
      caller,
      method: event.requestContext.http.method,
      route: response.route,
      tenant_id: response.tenantId,
      status: response.status,
      duration_ms: Date.now() - started,
    });
    return json(response.status, response.body);
  };
}

function json(status: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return body === undefined
    ? { statusCode: status }
    : { statusCode: status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
