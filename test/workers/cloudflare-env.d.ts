// Types for tests that run inside workerd: the bindings and the main module's exports.
type TetherEnv = import("../../workers/env.ts").Env;
type TetherEdgeModule = typeof import("../../workers/edge.ts");

declare namespace Cloudflare {
  interface Env extends TetherEnv {}
  interface GlobalProps {
    mainModule: TetherEdgeModule;
    durableNamespaces: "TunnelRelay" | "Sandbox" | "Registry" | "ManagedEnvironment" | "SessionRunner";
  }
}
