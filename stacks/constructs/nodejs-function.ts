import { join, resolve } from "node:path";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { AssetType, TerraformAsset, type TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { IAM_PATH } from "../naming";
import { bundleNodeProgram, LAMBDA_UNUSED_CREDENTIAL_PROVIDERS } from "./bundle";
import { type PolicyStatement, policyJson } from "./iam";

export interface NodejsFunctionProps {
  readonly functionName: string;
  /** TypeScript entry file exporting `handler`. */
  readonly entry: string;
  /** @default 1024 */
  readonly memoryMb?: number;
  /** @default 300 */
  readonly timeoutSeconds?: number;
  /** @default unreserved */
  readonly reservedConcurrency?: number;
  /** @default {} */
  readonly environment?: Record<string, string>;
  readonly logRetentionDays: number;
  /** Encrypts the function's log group. */
  readonly kmsKey: { readonly arn: string };
  /** What the function may do, beside writing its own logs. */
  readonly policyStatements: PolicyStatement[];
  /** @default functionName */
  readonly roleName?: string;
  readonly provider?: TerraformProvider;
}

/** Lambda gives a function one vCPU for every 1,769 MB of memory (Lambda developer guide). */
export const LAMBDA_MB_PER_VCPU = 1769;

/**
 * V8 sized to the function (NODE_OPTIONS): old space half the function's memory, and
 * young-generation semi-spaces of 8 MB instead of 16. Decoding a 110 MB Parquet row group in
 * slices keeps about 16 MB of heap alive, yet with V8's defaults its garbage lifted the process
 * to 212-220 MB; with these, 183-185 MB (NDJSON: 129-131 MB, then 119-121 MB), at the same speed.
 *
 * Below 3 vCPUs, one thread for V8's background work (collection helpers, compiles) instead of
 * Node's 4: the JavaScript thread and zlib's inflate on libuv's pool already fill two cores, and
 * V8's threads took the inflater's core from it. On 2 cores the bench's path ran 5-10% faster
 * (medians of two sets of 21 interleaved runs), pinned to 1 core the same, Parquet the same.
 * Above, Node's default (not measured here). `npm run bench` runs the delivery path with these
 * flags for the default memory.
 */
export function functionNodeOptions(memoryMb: number, vcpus = memoryMb / LAMBDA_MB_PER_VCPU): string {
  const heap = `--max-semi-space-size=8 --max-old-space-size=${Math.max(64, Math.floor(memoryMb / 2))}`;
  return vcpus < 3 ? `${heap} --v8-pool-size=1` : heap;
}

/** A function's memory when its props name none. */
export const DEFAULT_FUNCTION_MEMORY_MB = 1024;

/** Where function bundles are written (git-ignored). */
export const BUILD_DIR = resolve(__dirname, "..", "..", "build", "functions");

/**
 * A Node.js Lambda function bundled by esbuild into a zip asset, with its log group created
 * first (retention, KMS), a least-privilege role of its own, and V8's heap sized to its memory.
 */
export class NodejsFunction extends Construct {
  readonly fn: LambdaFunction;
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: NodejsFunctionProps) {
    super(scope, id);
    const provider = props.provider;
    const memoryMb = props.memoryMb ?? DEFAULT_FUNCTION_MEMORY_MB;
    const outdir = join(BUILD_DIR, props.functionName);
    bundleNodeProgram(props.entry, join(outdir, "index.js"), {
      external: LAMBDA_UNUSED_CREDENTIAL_PROVIDERS,
    });
    const asset = new TerraformAsset(this, "bundle", { path: outdir, type: AssetType.ARCHIVE });

    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKey.arn,
      provider,
    });
    this.role = new IamRole(this, "role", {
      name: props.roleName ?? props.functionName,
      path: IAM_PATH,
      assumeRolePolicy: policyJson({
        Effect: "Allow",
        Principal: { Service: "lambda.amazonaws.com" },
        Action: "sts:AssumeRole",
      }),
      provider,
    });
    const rolePolicy = new IamRolePolicy(this, "policy", {
      role: this.role.id,
      name: "least-privilege",
      policy: policyJson(
        {
          Sid: "OwnLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: [`${this.logGroup.arn}:*`],
        },
        ...props.policyStatements,
      ),
      provider,
    });
    this.fn = new LambdaFunction(this, "function", {
      functionName: props.functionName,
      role: this.role.arn,
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: "index.handler",
      filename: asset.path,
      sourceCodeHash: asset.assetHash,
      memorySize: memoryMb,
      timeout: props.timeoutSeconds ?? 300,
      reservedConcurrentExecutions: props.reservedConcurrency ?? -1,
      environment: { variables: { NODE_OPTIONS: functionNodeOptions(memoryMb), ...props.environment } },
      dependsOn: [this.logGroup, rolePolicy],
      provider,
    });
  }
}
