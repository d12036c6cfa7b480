/**
 * Entry of a ServerProcess: runs inside the lab's server namespace, loads one module and answers
 * calls to its exported functions over the IPC channel. Exits when the test goes away.
 */
interface CallMessage { kind: 'call'; id: number; fn: string; args: unknown[] }

const target = require(process.argv[2]) as Record<string, unknown>;

process.on('message', (m: CallMessage) => {
  if (m?.kind !== 'call') return;
  const fn = target[m.fn];
  Promise.resolve()
    .then(() => {
      if (typeof fn !== 'function') throw new Error(`server process: ${m.fn} is not exported by ${process.argv[2]}`);
      return (fn as (...a: unknown[]) => unknown)(...m.args);
    })
    .then(
      (value) => process.send?.({ kind: 'result', id: m.id, value: value ?? null }),
      (err: Error) => process.send?.({ kind: 'result', id: m.id, error: { name: err?.name, message: err?.message ?? String(err), stack: err?.stack } }),
    );
});
process.on('disconnect', () => process.exit(0));
// a normal exit on SIGTERM (ServerProcess.close): exit hooks and --cpu-prof output still run
process.on('SIGTERM', () => process.exit(0));
process.send?.({ kind: 'ready' });
