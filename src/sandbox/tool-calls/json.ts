import type { ToolCallEvent, ToolCallMeta } from "./events.ts";
import type { ToolResultBlock } from "./tool-use-block.ts";

export const JSON_CONTENT_TYPE = "application/json";

/** The `application/json` answer: `content` is exactly what goes back to Claude in the next user message. */
export interface ToolCallsJson {
  content: ToolResultBlock[];
  meta: ToolCallMeta[];
}

/** Collects a run's results into the JSON answer (output events are already inside the results). */
export async function collectToolCallsJson(events: AsyncIterable<ToolCallEvent>): Promise<ToolCallsJson> {
  const answer: ToolCallsJson = { content: [], meta: [] };
  for await (const event of events) {
    if (event.event !== "result") continue;
    answer.content.push(event.result);
    answer.meta.push(event.meta);
  }
  return answer;
}
