import type { Env } from "../../workers/env.ts";
import { registry } from "../registry.ts";

/**
 * Keeps a sandbox's entry in the Registry (the operators' list, `GET /admin/sandboxes`) without
 * making the caller wait for it. The Registry is one object for the whole deployment: awaiting it
 * would add a Durable Object round trip and a write to every create (measured ~2 ms locally), and
 * a burst of creates would queue behind one another there.
 *
 *  - Adds and removes go out one after another, in order: a destroy right after a create cannot
 *    be overtaken by the create's add and leave a stale entry behind.
 *  - A failed add is remembered and sent again on the sandbox's next activity (`retry`), so a
 *    transient failure cannot leave a sandbox unlisted for good.
 *  - Removes are awaited by the caller (destroy and expiry answer once the entry is gone).
 *
 * The list is therefore eventually consistent for additions: for the instant an add is in
 * flight a new sandbox may be missing from it. Entries whose sandbox is gone are already filtered
 * out by the list. In memory only: a pending retry is lost with the object (the next create on
 * the id adds it again).
 */
export class RegistryLink {
  readonly #env: Env;
  #tail: Promise<unknown> = Promise.resolve();
  /** The id whose add failed, to be sent again. */
  #unlisted: string | null = null;

  constructor(env: Env) {
    this.#env = env;
  }

  /** Lists the sandbox, in the background. */
  add(id: string): void {
    this.#unlisted = null;
    this.#enqueue(() => registry(this.#env).add("sandbox", id)).catch((error: unknown) => {
      this.#unlisted = id;
      console.error(`listing sandbox ${id} in the registry failed; retried on its next activity`, error);
    });
  }

  /** Sends a failed add again (cheap when there is none). */
  retry(): void {
    if (this.#unlisted !== null) this.add(this.#unlisted);
  }

  /** Unlists the sandbox once every earlier add has been sent. */
  async remove(id: string): Promise<void> {
    this.#unlisted = null;
    await this.#enqueue(() => registry(this.#env).remove("sandbox", id));
  }

  #enqueue<T>(send: () => Promise<T>): Promise<T> {
    const sent = this.#tail.then(send);
    this.#tail = sent.catch(() => {});
    return sent;
  }
}
