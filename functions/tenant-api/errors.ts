/** An API failure with its HTTP status and, for validation, field-level messages. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string[]>,
  ) {
    super(message);
  }

  toBody(): Record<string, unknown> {
    return { error: { code: this.code, message: this.message, ...(this.fields && { fields: this.fields }) } };
  }
}

export const notFound = (what: string) => new ApiError(404, "NotFound", `${what} does not exist`);
export const conflict = (message: string) => new ApiError(409, "Conflict", message);
export const badRequest = (message: string, fields?: Record<string, string[]>) =>
  new ApiError(400, "ValidationError", message, fields);
