import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["controller/test/**/*.test.ts", "agent/test/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
