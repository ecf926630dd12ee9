/** The error a promise rejects with; fails the test when it resolves instead. */
export async function rejection(p: Promise<unknown>): Promise<Error & { reason?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { reason?: string };
  }
  throw new Error("expected the call to reject");
}
