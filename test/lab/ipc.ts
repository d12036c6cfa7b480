/** The side channel from code running in the server namespace back to the test that started it. */
export function emitToTest(event: unknown): void {
  if (process.send) process.send({ kind: 'event', event });
}
