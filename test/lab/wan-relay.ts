/**
 * Runs in the lab's router namespace (WAN mode): the floating IPs live here, as on a cloud's
 * router, and every TCP connection to <floating IP>:22 is relayed to the VM's private address with
 * a fixed delay each way — the WAN between the server and the cloud. Order is kept: the delays
 * are equal, and timers of equal delay fire in the order they were set.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

const routes = new Map<string, string>();
let server: Server | undefined;

function relay(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (d) => { setTimeout(() => { if (!to.destroyed) to.write(d); }, delayMs); });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => undefined);
  from.on('close', () => setTimeout(() => to.destroy(), delayMs));
}

export function listen(delayMs: number): Promise<void> {
  server = createServer((client) => {
    const target = routes.get((client.localAddress ?? '').replace(/^::ffff:/, ''));
    if (!target) return void client.destroy();
    const vm = connect({ host: target, port: 22 });
    client.setNoDelay(true);
    vm.setNoDelay(true);
    relay(client, vm, delayMs);
    relay(vm, client, delayMs);
  });
  return new Promise((resolve) => server!.listen(22, '0.0.0.0', resolve));
}

export function route(floatingIp: string, privateIp: string): void {
  routes.set(floatingIp, privateIp);
}
