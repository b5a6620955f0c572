/** Why a request was refused: the HTTP status, a stable code (metric label) and a reason for the caller. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    reason: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
    this.name = 'ApiError';
  }
}

/** Thrown when a query parameter or body is malformed: 400 with the reason. */
export const badRequest = (code: string, reason: string) => new ApiError(400, code, reason);

/** The JSON body of every error response. */
export interface ErrorBody {
  status: number;
  error: string;
  reason: string;
}

export const errorBody = (e: ApiError): ErrorBody => ({ status: e.status, error: e.code, reason: e.message });
