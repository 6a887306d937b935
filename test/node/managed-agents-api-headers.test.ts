/** The headers of a worker's API call: extra ones (Anthropic-Worker-ID) ride along, never over the credential or betas. */
import { expect, test } from "vitest";
import { apiHeaders, MANAGED_AGENTS_BETA } from "../../src/managed-agents/api-client.ts";

const credentials = { baseUrl: "http://127.0.0.1:1", bearer: "sk-ant-oat01-environment-key" };

test("extra headers are sent; authorization, version and betas cannot be replaced by them", () => {
  const headers = apiHeaders(credentials, {
    headers: {
      "anthropic-worker-id": "tether-env-1",
      authorization: "Bearer someone-else",
      "anthropic-beta": "other-beta",
      "x-api-key": "sk-ant-api-key",
    },
  });
  expect(headers.get("anthropic-worker-id")).toBe("tether-env-1");
  expect(headers.get("authorization")).toBe(`Bearer ${credentials.bearer}`);
  expect(headers.get("anthropic-beta")).toBe(MANAGED_AGENTS_BETA);
  // The API refuses Bearer plus x-api-key: an extra x-api-key must not ride along.
  expect(headers.get("x-api-key")).toBeNull();
});
