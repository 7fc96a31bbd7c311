import { type TerraformResource, TerraformStack } from "cdktf";
// The stack's own addressing scheme (HashedAddressingScheme), to name where a resource used to be.
import { makeUniqueId } from "cdktf/lib/private/unique";
import type { Construct } from "constructs";

/**
 * Construct ids are Terraform addresses: derive them from names, never from list positions, so
 * reordering a list moves nothing. `GET /tenants/{tenant_id}/x` -> `get-tenants-tenant_id-x`.
 */
export function idFrom(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (id === "") throw new Error(`cannot derive a construct id from ${JSON.stringify(name)}`);
  return id;
}

/** Construct ids from the stack down to `scope` (what the stack hashes into addresses). */
export function idsBelowStack(scope: Construct): string[] {
  const scopes = scope.node.scopes;
  const stack = scopes.findIndex((s) => TerraformStack.isStack(s));
  return scopes.slice(stack + 1).map((s) => s.node.id);
}

/**
 * Keeps the state of a resource that used to be created at another construct path: a `moved`
 * block from the address it had at `oldPath` (construct ids below the stack).
 */
export function movedFrom(resource: TerraformResource, oldPath: readonly string[]): void {
  resource.moveFromId(`${resource.terraformResourceType}.${makeUniqueId([...oldPath])}`);
}
