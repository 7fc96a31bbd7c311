import { Apigatewayv2Api } from "@cdktf/provider-aws/lib/apigatewayv2-api";
import { Apigatewayv2Integration } from "@cdktf/provider-aws/lib/apigatewayv2-integration";
import { Apigatewayv2Route } from "@cdktf/provider-aws/lib/apigatewayv2-route";
import { Apigatewayv2Stage } from "@cdktf/provider-aws/lib/apigatewayv2-stage";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { idFrom } from "./addresses";

export interface IamHttpApiProps {
  readonly apiName: string;
  /** The Lambda function behind every route. */
  readonly fn: { readonly arn: string; readonly functionName: string; readonly invokeArn: string };
  /** Route keys such as "GET /tenants/{tenant_id}/delivery-configs"; each route's id derives from its key. */
  readonly routes: readonly string[];
  /** Steady-state requests per second. @default 20 */
  readonly throttlingRateLimit?: number;
  /** @default 40 */
  readonly throttlingBurstLimit?: number;
  readonly logRetentionDays: number;
  readonly kmsKey: { readonly arn: string };
  readonly provider?: TerraformProvider;
}

/**
 * An HTTP API whose every route requires AWS IAM (SigV4) authorization, with stage throttling
 * and JSON access logs. No shared secrets: callers are IAM principals allowed execute-api:Invoke.
 */
export class IamHttpApi extends Construct {
  readonly api: Apigatewayv2Api;
  readonly stage: Apigatewayv2Stage;
  readonly accessLogs: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: IamHttpApiProps) {
    super(scope, id);
    if (props.routes.length === 0) throw new Error("routes must name at least one route key");
    const provider = props.provider;
    this.api = new Apigatewayv2Api(this, "api", { name: props.apiName, protocolType: "HTTP", provider });
    const integration = new Apigatewayv2Integration(this, "integration", {
      apiId: this.api.id,
      integrationType: "AWS_PROXY",
      integrationUri: props.fn.invokeArn,
      integrationMethod: "POST",
      payloadFormatVersion: "2.0",
      provider,
    });
    for (const routeKey of props.routes) {
      new Apigatewayv2Route(this, `route-${idFrom(routeKey)}`, {
        apiId: this.api.id,
        routeKey,
        authorizationType: "AWS_IAM",
        target: `integrations/${integration.id}`,
        provider,
      });
    }
    this.accessLogs = new CloudwatchLogGroup(this, "access-logs", {
      name: `/aws/apigateway/${props.apiName}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKey.arn,
      provider,
    });
    this.stage = new Apigatewayv2Stage(this, "stage", {
      apiId: this.api.id,
      name: "$default",
      autoDeploy: true,
      defaultRouteSettings: {
        throttlingRateLimit: props.throttlingRateLimit ?? 20,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 40,
        detailedMetricsEnabled: true,
      },
      accessLogSettings: {
        destinationArn: this.accessLogs.arn,
        // Who called what, and the outcome; no bodies.
        format: JSON.stringify({
          requestId: "$context.requestId",
          caller: "$context.identity.userArn",
          sourceIp: "$context.identity.sourceIp",
          routeKey: "$context.routeKey",
          status: "$context.status",
          latencyMs: "$context.responseLatency",
          integrationError: "$context.integrationErrorMessage",
        }),
      },
      provider,
    });
    new LambdaPermission(this, "invoke", {
      statementId: "AllowApiGatewayInvoke",
      action: "lambda:InvokeFunction",
      functionName: props.fn.functionName,
      principal: "apigateway.amazonaws.com",
      sourceArn: `${this.api.executionArn}/*/*`,
      provider,
    });
  }
}
