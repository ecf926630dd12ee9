// TSIG signing and verification (RFC 8945) against a message signed by Knot's kdig, so the
// vector comes from an independent implementation rather than from our own code.
import { describe, expect, it } from "vitest";
import { findTsig, signMessage, verifyProblem, wireName, type TsigKey } from "../../src/providers/dns/tsig.js";

// `kdig -y hmac-sha256:zlh-key:<secret> @127.0.0.1 -p PORT mc1.zlh.localhost A`, captured on
// a UDP socket (Knot DNS 3.2): query id 0x6dbf, time signed 0x6b1061cc, fudge 300.
const KDIG_QUERY = Buffer.from(
  "6dbf01200001000000000001036d6331037a6c68096c6f63616c686f73740000010001077a6c682d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b1061cc012c0020eb28307bdbd776257ceba3bcac9b85f50bc0448561f17edeece2e00a29156e276dbf00000000",
  "hex",
);
const KEY: TsigKey = { name: "zlh-key", algorithm: "hmac-sha256", secret: Buffer.from("zlh test vector secret!!") };

describe("TSIG", () => {
  it("finds the TSIG record of a kdig-signed query and verifies its MAC", () => {
    const found = findTsig(KDIG_QUERY)!;
    expect(found.keyName).toBe("zlh-key");
    expect(found.algorithm).toBe("hmac-sha256");
    expect(found.timeSigned).toBe(0x6b1061cc);
    expect(found.fudge).toBe(300);
    expect(found.originalId).toBe(0x6dbf);
    expect(found.unsigned.readUInt16BE(10)).toBe(0);
    expect(verifyProblem(KEY, found, undefined, 0x6b1061cc)).toBeUndefined();
  });

  it("signs the same message to the same bytes kdig sent", () => {
    const found = findTsig(KDIG_QUERY)!;
    const { wire, mac } = signMessage(KEY, found.unsigned, found.timeSigned);
    expect(wire.equals(KDIG_QUERY)).toBe(true);
    expect(mac.equals(found.mac)).toBe(true);
  });

  it("refuses a wrong secret, a wrong key name and a stale time", () => {
    const found = findTsig(KDIG_QUERY)!;
    expect(verifyProblem({ ...KEY, secret: Buffer.from("other") }, found, undefined, 0x6b1061cc)).toContain("does not verify");
    expect(verifyProblem({ ...KEY, name: "other-key" }, found, undefined, 0x6b1061cc)).toContain("signed with key zlh-key");
    expect(verifyProblem(KEY, found, undefined, 0x6b1061cc + 301)).toContain("fudge");
  });

  it("covers the request MAC in a signed answer", () => {
    const { wire } = signMessage(KEY, findTsig(KDIG_QUERY)!.unsigned, 1000, Buffer.from("request-mac"));
    const found = findTsig(wire)!;
    expect(verifyProblem(KEY, found, Buffer.from("request-mac"), 1000)).toBeUndefined();
    expect(verifyProblem(KEY, found, Buffer.from("other-mac"), 1000)).toContain("does not verify");
  });

  it("writes names in canonical wire form", () => {
    expect(wireName("Zlh-Key.").toString("hex")).toBe("077a6c682d6b657900");
    expect(wireName("hmac-md5.sig-alg.reg.int").length).toBe(26);
  });
});
