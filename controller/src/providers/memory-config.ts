// `type: memory` for each provider kind: the in-memory twins, for demos and tests of the
// whole server without any backend.
import { MemoryDnsProvider } from "./dns/memory.js";
import { defineProvider } from "./provider-config.js";
import { MemoryRouteProvider } from "./routing/memory.js";
import { MemoryWorkloadProvider } from "./workload/memory.js";

export const memoryWorkload = defineProvider({ parse: () => ({}), make: () => new MemoryWorkloadProvider() });
export const memoryDns = defineProvider({ parse: () => ({}), make: (_r, env) => new MemoryDnsProvider({ zone: env.zone }) });
export const memoryRouting = defineProvider({ parse: () => ({}), make: () => new MemoryRouteProvider() });
