/**
 * zod's small build (zod/mini: the same schemas and issues, functions instead of chained methods)
 * with its English messages. The tunnel protocol and the gateway's configuration use it because
 * the gateway runs on customers' machines and should stay small: importing the full "zod" costs an
 * idle Node process about 9 MiB (it loads every locale and all of its methods), zod/mini about 2.
 * Schemas from both builds mix freely; parse results and issues are the same.
 *
 * Import it as a namespace (`import * as z from ".../zod-mini.ts"`) and use only what is needed:
 * the bundler then keeps just those parts of zod.
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
