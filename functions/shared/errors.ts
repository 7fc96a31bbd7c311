/** Short, log-safe description of any thrown value: `Name: message`. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const message = error.message || "(no message)";
    return `${error.name}: ${message}`;
  }
  return String(error);
}
