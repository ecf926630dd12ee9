import { ApiException, KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { apiStatus, isConnectionError, toCliError } from "../../src/cli/api-errors.js";
import { CliError } from "../../src/cli/cli-error.js";
import type { Connection } from "../../src/cli/connection.js";

const conn = { server: "http://127.0.0.1:7443", kubeconfigPath: ".zlh/kubeconfig", kc: new KubeConfig() } as unknown as Connection;

function status(code: number, reason: string, message: string, causes?: object[]): ApiException<string> {
  return new ApiException(code, "Unknown API Status Code!", JSON.stringify({ kind: "Status", status: "Failure", code, reason, message, details: causes ? { causes } : undefined }), {});
}

describe("api errors", () => {
  it("prints a server-side 422 with each cause on its own line", () => {
    const e = toCliError(status(422, "Invalid", 'GameServer "mc1" is invalid', [{ field: ".spec.ports[1].port", message: "duplicate port", reason: "FieldValueDuplicate" }]), conn, "gameserver.zerolaghub.dev/mc1");
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).reason).toBe("Invalid");
    expect((e as CliError).message).toBe('gameserver.zerolaghub.dev/mc1: rejected by the server (Invalid): GameServer "mc1" is invalid\n  .spec.ports[1].port: duplicate port');
  });

  it("names the kubeconfig whose token was rejected on 401, without the token", () => {
    const e = toCliError(new ApiException(401, "Unauthorized", undefined, {}), conn) as CliError;
    expect(e.message).toBe("unauthorized: http://127.0.0.1:7443 rejected the token in .zlh/kubeconfig");
  });

  it("turns a refused connection into the no-server hint", () => {
    const refused = Object.assign(new Error("request to http://127.0.0.1:7443 failed"), { type: "system", code: "ECONNREFUSED" });
    expect(isConnectionError(refused)).toBe(true);
    expect((toCliError(refused, conn) as CliError).message).toBe("no zlh server at http://127.0.0.1:7443: start one with `npm start` (or `zlh server`)");
  });

  it("reads a non-JSON error body as the message and keeps unknown errors as they are", () => {
    expect(apiStatus(new ApiException(502, "x", "Bad Gateway", {}))).toEqual({ code: 502, message: "Bad Gateway", reason: undefined, causes: [] });
    const bug = new TypeError("boom");
    expect(toCliError(bug, conn)).toBe(bug);
  });
});
