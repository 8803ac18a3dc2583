// Problem documents (RFC 9457), the shape of every error the API returns.

export interface Problem {
  title: string;
  status: number;
  detail?: string;
  errors?: { path: string; message: string; hint?: string }[];
}

/** An API answer that was not a success, with the problem document when there was one. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;
  readonly retryAfter: number | null;

  constructor(status: number, problem: Problem | null, retryAfter: number | null = null) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

export function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && "title" in value && "status" in value;
}

/** An ApiError from a failed response whose body was already read (as openapi-fetch does). */
export function apiErrorOf(response: Response, body: unknown): ApiError {
  const retry = Number(response.headers.get("Retry-After"));
  return new ApiError(
    response.status,
    isProblem(body) ? body : null,
    Number.isFinite(retry) && retry > 0 ? retry : null,
  );
}

/** Reads a failed response into an ApiError; a body that is not a problem is dropped. */
export async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = null; // an empty or non-JSON body: the status alone says what happened
  }
  const retry = Number(response.headers.get("Retry-After"));
  return new ApiError(
    response.status,
    isProblem(body) ? body : null,
    Number.isFinite(retry) && retry > 0 ? retry : null,
  );
}

/** One line a person can act on, for any error. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    const { problem } = error;
    if (problem?.detail) return `${problem.title}: ${problem.detail}`;
    if (problem) return problem.title;
    return `The server answered ${error.status}.`;
  }
  return "The server could not be reached. Check that `tidings serve` is running.";
}
