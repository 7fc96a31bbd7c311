import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";

/**
 * Every item a Query matches, across pages (or the first `limit`): the one paging loop for the
 * distributor's and the tenant API's DynamoDB adapters.
 */
export async function queryAll(
  db: Pick<DynamoDBDocumentClient, "send">,
  input: Omit<QueryCommandInput, "ExclusiveStartKey" | "Limit">,
  limit?: number,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        ...input,
        ...(limit !== undefined && { Limit: limit - items.length }),
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start && (limit === undefined || items.length < limit));
  return items;
}
