// Preload for the Portkey gateway child: its start script listens on a port with no host, which binds
// every interface. The bench must stay on 127.0.0.1, and the script has no host flag, so this pins
// host-less listen() calls to loopback before the script runs.
import net from 'node:net';

const LOOPBACK = '127.0.0.1';
const original = net.Server.prototype.listen as (this: net.Server, ...args: unknown[]) => net.Server;

net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]): net.Server {
  const first = args[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (args.length < 2 || args[1] === undefined || args[1] === null) args[1] = LOOPBACK;
    else if (typeof args[1] === 'function') args.splice(1, 0, LOOPBACK);
  } else if (first && typeof first === 'object' && !('path' in first) && !('host' in first && (first as { host?: unknown }).host)) {
    args[0] = { ...(first as object), host: LOOPBACK };
  }
  return original.apply(this, args);
} as typeof net.Server.prototype.listen;
