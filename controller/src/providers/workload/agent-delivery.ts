// How a Proxmox container's agent gets its identity and token. Nothing secret goes through
// the Proxmox API: anyone with VM.Audit reads a container's config, description and tags,
// and task logs record parameters. Instead, once the container runs and its address is
// known, the controller pushes the credentials to the template's bootstrap receiver on the
// container network (PUT /zlh/v1/credentials), which writes them 0600 as ZLH_TOKEN_FILE and
// starts the agent. See docs/production.md (Proxmox) for what the template must contain.
import type { Clock } from "../../engine/clock.js";
import { sendHttp } from "../http-call.js";
import { ProviderError } from "../provider-error.js";
import { TransientError, withRetries, type RetryPolicy } from "../retry.js";

export interface AgentCredentials {
  vmid: number;
  hostname: string;
  /** The container's address, read from its interfaces. */
  ip: string;
  /** `gameservers/<namespace>/<name>` (ZLH_RESOURCE). */
  resource: string;
  controllerUrl: string;
  token: string;
}

export type DeliverAgentCredentials = (c: AgentCredentials) => Promise<void>;

export interface PushDeliveryOptions {
  /** Where the receiver listens for a container address; default http://<ip>:7445. */
  receiverUrl?: (ip: string) => string;
  port?: number;
  clock: Clock;
  policy: RetryPolicy;
  timeoutMs?: number;
}

/** Pushes the credentials, retrying while the receiver is not listening yet (the CT just booted). */
export function pushDelivery(o: PushDeliveryOptions): DeliverAgentCredentials {
  const base = o.receiverUrl ?? ((ip: string) => `http://${ip.includes(":") ? `[${ip}]` : ip}:${o.port ?? 7445}`);
  const transport = { service: "agent bootstrap", timeoutMs: o.timeoutMs ?? 10_000 };
  return async (c) => {
    const url = new URL("/zlh/v1/credentials", base(c.ip));
    const body = JSON.stringify({ vmid: c.vmid, hostname: c.hostname, resource: c.resource, controllerUrl: c.controllerUrl, token: c.token });
    await withRetries({ clock: o.clock, policy: o.policy }, async () => {
      const reply = await sendHttp(transport, { method: "PUT", url, headers: { "content-type": "application/json" }, body });
      if (reply.status === 204 || reply.status === 200) return;
      // Never echo the body we sent; the receiver's reason phrase is safe to show.
      const msg = `agent bootstrap of CT ${c.vmid} at ${url.host}: HTTP ${reply.status} ${reply.statusText}`.trimEnd();
      if (reply.status >= 500 || reply.status === 404) throw new TransientError(msg);
      throw new ProviderError("Unavailable", msg);
    });
  };
}
