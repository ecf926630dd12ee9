import { describe, it, expect } from "vitest";
import { Allocator } from "../../src/resources/allocator.js";
import { gameServer } from "./harness.js";

describe("Allocator", () => {
  it("keeps existing public ports by port name and gives an added port a new one", () => {
    const a = new Allocator({ from: 100, to: 199 }, { from: 30000, to: 30009 });
    const r = gameServer("mc1");
    const first = a.assign("gameservers/default/mc1", r);
    expect(first.ports.map((p) => p.publicPort)).toEqual([30000]);
    const stored = { ...r, status: { vmid: first.vmid, ports: first.ports } };
    a.observe("gameservers/default/mc1", stored.status);
    const grown = { ...stored, spec: { ...r.spec, ports: [...r.spec.ports, { name: "query", port: 25566 }] } };
    const second = a.assign("gameservers/default/mc1", grown);
    expect(second.ports.map((p) => [p.name, p.publicPort])).toEqual([["game", 30000], ["query", 30001]]);
  });

  it("never hands a vmid or port held by one resource to another, and reuses them after release", () => {
    const a = new Allocator({ from: 100, to: 101 }, { from: 30000, to: 30001 });
    const x = a.assign("gameservers/default/x", gameServer("x"));
    const y = a.assign("gameservers/default/y", gameServer("y"));
    expect([x.vmid, y.vmid]).toEqual([100, 101]);
    expect(() => a.assign("gameservers/default/z", gameServer("z"))).toThrow(/no free vmid in 100-101/);
    a.release("gameservers/default/x");
    expect(a.assign("gameservers/default/z", gameServer("z"))).toMatchObject({ vmid: 100, ports: [{ publicPort: 30000 }] });
  });

  it("learns what stored objects hold before handing anything out (controller restart)", () => {
    const a = new Allocator({ from: 100, to: 199 }, { from: 30000, to: 30009 });
    a.observe("gameservers/default/old", { vmid: 100, ports: [{ name: "game", port: 25565, protocol: "tcp", publicPort: 30000 }] });
    expect(a.assign("gameservers/default/new", gameServer("new"))).toMatchObject({ vmid: 101, ports: [{ publicPort: 30001 }] });
  });
});
