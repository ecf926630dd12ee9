// The controller engine: queue, workers, informers and leader election.
export * from "./clock.js";
export * from "./rate-limiter.js";
export * from "./workqueue.js";
export * from "./controller-loop.js";
export * from "./informer.js";
export * from "./paced-watch.js";
export * from "./custom-resource-informer.js";
export * from "./lease-client.js";
export * from "./lease-elector.js";
