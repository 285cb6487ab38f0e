import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A real TCP proxy in front of a server (Temporal's gRPC port in the tests), for late answers:
 * `holdAnswers()` keeps everything the server sends back, so requests still arrive and are
 * carried out but their answers do not reach the client; `cutAfterMs` also drops each connection
 * that long after its first held byte, as a network that breaks mid-call would. `deliver()`
 * sends what was held (connections stay intact: HTTP/2 frames are never lost, only late) and
 * goes back to passing everything through.
 */
export interface TcpProxy {
  /** host:port to point a client at. */
  address: string;
  holdAnswers(opts?: { cutAfterMs?: number }): void;
  deliver(): void;
  /** Drops every open connection now, as a network break would; new ones pass as before. */
  cut(): void;
  stop(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  held: Buffer[];
  cutTimer?: NodeJS.Timeout;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const pairs = new Set<Pair>();
  let holding: { cutAfterMs?: number } | undefined;

  const drop = (pair: Pair) => {
    clearTimeout(pair.cutTimer);
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const server = createServer((client) => {
    const upstream = connect(port, host);
    const pair: Pair = { client, upstream, held: [] };
    pairs.add(pair);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!holding) return void client.write(chunk);
      pair.held.push(chunk);
      if (holding.cutAfterMs !== undefined && !pair.cutTimer) pair.cutTimer = setTimeout(() => drop(pair), holding.cutAfterMs);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => drop(pair));
      socket.on('close', () => drop(pair));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    address,
    holdAnswers(opts = {}) {
      holding = opts;
    },
    deliver() {
      holding = undefined;
      for (const pair of pairs) {
        clearTimeout(pair.cutTimer);
        pair.cutTimer = undefined;
        for (const chunk of pair.held.splice(0)) pair.client.write(chunk);
      }
    },
    cut() {
      for (const pair of [...pairs]) drop(pair);
    },
    async stop() {
      for (const pair of [...pairs]) drop(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
