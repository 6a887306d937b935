/**
 * One call through the stand-in: route (404/405), injected faults, the required `anthropic-version`
 * and `anthropic-beta` headers (400), authentication (401/403), then the endpoint. Every answer is
 * recorded in `state.calls` (bounded).
 */
import { authenticate, type Principal } from "./auth.ts";
import { ApiError, badRequest, errorResponse } from "./http.ts";
import { matchRoute } from "./routes.ts";
import type { StandInState } from "./state.ts";

const MAX_CALLS_RECORDED = 10_000;
export const ANTHROPIC_VERSION = "2023-06-01";

export async function dispatch(state: StandInState, request: Request, signal: AbortSignal): Promise<Response> {
  const url = new URL(request.url);
  let principal: Principal | undefined;
  let response: Response;
  try {
    const { route, params } = matchRoute(request.method, url.pathname);
    await state.faults.beforeCall(`${request.method} ${url.pathname}`, signal);
    if (request.headers.get("anthropic-version") !== ANTHROPIC_VERSION) {
      throw badRequest(`anthropic-version: ${ANTHROPIC_VERSION} is required`);
    }
    const betas = (request.headers.get("anthropic-beta") ?? "").split(",").map((beta) => beta.trim());
    if (!betas.includes(route.beta)) throw badRequest(`anthropic-beta: ${route.beta} is required`);
    principal = authenticate(request, {
      environmentKeys: state.environmentKeys,
      sessionTokens: state.sessionTokens,
      work: (id) => state.queue.record(id),
    });
    response = await route.handle({ request, url, params, principal, signal, state });
  } catch (error) {
    response = errorResponse(error instanceof ApiError ? error : new ApiError(500, "api_error", String(error)));
  }
  if (state.calls.length >= MAX_CALLS_RECORDED) state.calls.shift();
  state.calls.push({
    method: request.method,
    path: url.pathname,
    status: response.status,
    principal: principal?.kind ?? null,
    workerId: request.headers.get("anthropic-worker-id"),
    at: state.clock.now(),
  });
  return response;
}
