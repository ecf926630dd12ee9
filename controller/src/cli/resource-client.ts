// The handful of REST calls the commands make, on one kind at a time, with client-node's
// errors turned into CliErrors (except 404 on get, which callers branch on).
import { GROUP, VERSION, type KindInfo } from "./kinds.js";
import { isNotFound, toCliError } from "./api-errors.js";
import type { Connection } from "./connection.js";
import type { ResourceObject } from "./resource-rows.js";

export interface ResourceList {
  resourceVersion: string;
  items: ResourceObject[];
}

export class ResourceClient {
  constructor(readonly conn: Connection) {}

  private async call<T>(fn: () => Promise<T>, subject?: string): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toCliError(e, this.conn, subject);
    }
  }

  /** The object, or undefined when it does not exist. */
  async get(info: KindInfo, namespace: string, name: string, subject?: string): Promise<ResourceObject | undefined> {
    try {
      return (await this.conn.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: info.plural, name })) as ResourceObject;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw toCliError(e, this.conn, subject);
    }
  }

  /** Objects of one kind in `namespace` (every namespace when undefined), matching `labelSelector` if given. */
  async list(info: KindInfo, namespace: string | undefined, labelSelector?: string): Promise<ResourceList> {
    const selector = labelSelector !== undefined ? { labelSelector } : {};
    const raw = (await this.call(() =>
      namespace === undefined
        ? this.conn.custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, plural: info.plural, ...selector })
        : this.conn.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: info.plural, ...selector }),
    )) as { metadata?: { resourceVersion?: string }; items?: ResourceObject[] };
    // A List's items often omit apiVersion/kind; the table and `-o name` need kind.
    const items = (raw.items ?? []).map((o) => ({ ...o, kind: o.kind ?? info.kind }));
    return { resourceVersion: raw.metadata?.resourceVersion ?? "", items };
  }

  create(info: KindInfo, namespace: string, body: object, subject?: string): Promise<ResourceObject> {
    return this.call(() => this.conn.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: info.plural, body }), subject);
  }

  /** PUT with the body's metadata.resourceVersion: a 409 means someone wrote in between. */
  replace(info: KindInfo, namespace: string, name: string, body: object, subject?: string): Promise<ResourceObject> {
    return this.call(() => this.conn.custom.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: info.plural, name, body }), subject);
  }

  delete(info: KindInfo, namespace: string, name: string, subject?: string): Promise<unknown> {
    return this.call(() => this.conn.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: info.plural, name }), subject);
  }
}
