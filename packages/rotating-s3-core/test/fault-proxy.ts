/**
 * A fault-injecting HTTP proxy on loopback, in front of the test S3 server. Each request gets the fault
 * the test's `choose` function names:
 * - `ok`: forwarded untouched;
 * - `500` / `503`: answered by the proxy with an S3-style error (InternalError / SlowDown), not forwarded;
 * - `reset`: the connection is destroyed before the request is forwarded;
 * - `lost`: forwarded and APPLIED by S3, then the connection is destroyed before the response arrives
 *   (the ambiguous failure: the client cannot know the write happened);
 * - `slow`: forwarded, but the response is held past the client's timeout.
 * Counts every fault it injected, by kind, every request, and the status of every response S3 sent
 * (also of `lost` ones), e.g. to count conditional-write failures (412, 409).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'ok' | '500' | '503' | 'reset' | 'lost' | 'slow';

export interface FaultProxy {
  endpoint: string;
  injected: Record<Exclude<Fault, 'ok'>, number>;
  /** Requests received, and responses S3 returned through the proxy by HTTP status. */
  requests: number;
  responses: Record<number, number>;
  total(): number;
  close(): Promise<void>;
}

/**
 * `stripHeaders` removes request headers before forwarding, e.g. `if-match`/`if-none-match` to stand in
 * for an endpoint that ignores conditional writes.
 */
export async function startFaultProxy(
  target: string,
  choose: (req: IncomingMessage) => Fault,
  slowMs = 3_000,
  stripHeaders: string[] = [],
): Promise<FaultProxy> {
  const upstream = new URL(target);
  const injected = { '500': 0, '503': 0, reset: 0, lost: 0, slow: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const responses: Record<number, number> = {};
  let requests = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests++;
    const fault = choose(req);
    if (fault !== 'ok') injected[fault]++;
    if (fault === '500' || fault === '503') {
      req.resume();
      const code = fault === '500' ? 'InternalError' : 'SlowDown';
      res.writeHead(Number(fault), { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the fault proxy</Message></Error>`);
      return;
    }
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    const headers = { ...req.headers };
    for (const name of stripHeaders) delete headers[name];
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
      responses[up.statusCode ?? 0] = (responses[up.statusCode ?? 0] ?? 0) + 1;
      if (fault === 'lost') {
        up.resume();
        up.on('end', () => req.socket.destroy());
        return;
      }
      const send = () => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      };
      if (fault === 'slow') {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) send();
        }, slowMs);
        timers.add(timer);
      } else send();
    });
    forward.on('error', () => req.socket.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    injected,
    get requests() {
      return requests;
    },
    responses,
    total: () => Object.values(injected).reduce((a, b) => a + b, 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
