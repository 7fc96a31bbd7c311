/** Short, log-safe description of any thrown value: `Name: message`. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const message = error.message || "(no message)";
    return `${error.name}: ${message}`;
  }
  return String(error);
}

/** Whether an AWS SDK error (or any thrown value) carries one of these names. */
export function hasErrorName(error: unknown, ...names: string[]): boolean {
  return names.includes(String((error as { name?: unknown } | null)?.name));
}
