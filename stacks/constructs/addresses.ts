/**
 * Construct ids are Terraform addresses: derive them from names, never from list positions, so
 * reordering a list moves nothing (`GET /tenants/{tenant_id}/x` -> `get-tenants-tenant_id-x`). When an
 * address changes, stacks/migrations.ts keeps its state.
 */
export function idFrom(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (id === "") throw new Error(`cannot derive a construct id from ${JSON.stringify(name)}`);
  return id;
}
