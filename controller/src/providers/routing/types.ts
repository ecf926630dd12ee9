/** A Traefik v3 dynamic configuration document (http/tcp/udp sections). */
export type TraefikConfig = Record<string, unknown>;

export interface DesiredRoute {
  /** File base name without extension, e.g. `zlh-gameserver_default_mc1`. */
  name: string;
  ownerMark: string;
  config: TraefikConfig;
}

export interface ObservedRoute {
  name: string;
  ownerMark?: string;
  config: TraefikConfig;
}

export interface RouteProvider {
  readonly name: string;
  /** The routes with these names that exist (in one call, so callers can batch). Read-only. */
  observe(names: readonly string[]): Promise<ObservedRoute[]>;
  /** Validates and writes the route (atomically where the backend allows). */
  apply(route: DesiredRoute): Promise<void>;
  /** Removes the route; a missing one is success. */
  delete(name: string): Promise<void>;
  /** Every route carrying an owner mark (for the garbage-collection sweep). */
  list(): Promise<ObservedRoute[]>;
}
