// The embedded API server in its own process, so the benchmark's RSS is the controller's alone.
import { pino } from "pino";
import { startApiServer } from "../controller/src/api/server.js";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: api-server-process.ts DATA_DIR");
const api = await startApiServer({ dataDir, listen: "127.0.0.1:0", logger: pino({ level: "warn" }, pino.destination(2)) });
process.stdout.write(JSON.stringify({ url: api.url, kubeconfigPath: api.kubeconfigPath }) + "\n");
process.on("SIGTERM", () => void api.close().then(() => process.exit(0)));
