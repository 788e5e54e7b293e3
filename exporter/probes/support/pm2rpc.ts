// A minimal client for the PM2 daemon's RPC socket ($PM2_HOME/rpc.sock): the same protocol the
// pm2 programmatic API speaks (pm2-axon "req" socket, AMP framing, pm2-axon-rpc messages).
//
// Why not `require('pm2').connect(true, …)`: when no daemon is running, connect(true) starts the
// PM2 daemon ("God") *inside the calling process* (verified with pm2 7.0.4: pm2.pid holds the
// caller's pid, rpc.sock appears, console output gets a "PM2 log:" prefix), connect() without
// the flag spawns a daemon, and the API keeps PM2_HOME in module-global state, so two checks with
// different pm2_home values would clobber each other. This client only ever connects: a missing
// daemon is an error, never a side effect.
import { stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { abortError } from './errors.js';

export class Pm2DaemonMissing extends Error {
  code = 'PM2_DAEMON_MISSING';
}

export function defaultPm2Home(env: NodeJS.ProcessEnv = process.env): string {
  return env.PM2_HOME || path.join(env.HOME || os.homedir(), '.pm2');
}

/** AMP v1: one meta byte (version << 4 | argc), then each argument as u32be length + bytes. */
export function ampEncode(args: Buffer[]): Buffer {
  const head = Buffer.from([(1 << 4) | args.length]);
  const parts: Buffer[] = [head];
  for (const a of args) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(a.length);
    parts.push(len, a);
  }
  return Buffer.concat(parts);
}

/** Decode one complete AMP frame at the start of `buf`; undefined while incomplete. */
export function ampDecode(buf: Buffer): { args: Buffer[]; size: number } | undefined {
  if (buf.length < 1) return undefined;
  const argc = buf[0] & 0xf;
  let off = 1;
  const args: Buffer[] = [];
  for (let i = 0; i < argc; i++) {
    if (buf.length < off + 4) return undefined;
    const len = buf.readUInt32BE(off);
    off += 4;
    if (buf.length < off + len) return undefined;
    args.push(buf.subarray(off, off + len));
    off += len;
  }
  return { args, size: off };
}

const pack = (v: unknown) => (typeof v === 'string' ? Buffer.from(`s:${v}`) : Buffer.from(`j:${JSON.stringify(v ?? null)}`));
function unpack(b: Buffer): unknown {
  if (b[0] === 0x6a && b[1] === 0x3a) return JSON.parse(b.subarray(2).toString('utf8'));
  if (b[0] === 0x73 && b[1] === 0x3a) return b.subarray(2).toString('utf8');
  return b;
}

/** Call one RPC method on the daemon of `pm2Home`; resolves with the method's first result. */
export async function pm2Call(pm2Home: string, method: string, args: unknown[], signal: AbortSignal, maxBytes = 64 * 1024 * 1024): Promise<unknown> {
  const sock = path.join(pm2Home, 'rpc.sock');
  try {
    await stat(sock);
  } catch {
    throw new Pm2DaemonMissing(`PM2 daemon is not running: ${sock} does not exist (pm2_home ${pm2Home})`);
  }
  if (signal.aborted) throw abortError();
  return new Promise((resolve, reject) => {
    const id = `vigil:${process.pid}:${Date.now()}`;
    let buf = Buffer.alloc(0);
    let done = false;
    const socket = net.connect(sock);
    const finish = (err: Error | undefined, value?: unknown) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err); else resolve(value);
    };
    const onAbort = () => finish(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => socket.write(ampEncode([pack({ type: 'call', method, args }), pack(id)])));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') {
        finish(new Pm2DaemonMissing(`PM2 daemon is not running: nothing listens on ${sock} (stale socket; pm2_home ${pm2Home})`));
      } else finish(err);
    });
    socket.on('close', () => finish(new Error(`PM2 daemon closed the connection before answering ${method}`)));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > maxBytes) return finish(new Error(`PM2 answer to ${method} larger than ${maxBytes} bytes`));
      for (;;) {
        const frame = ampDecode(buf);
        if (!frame) return;
        buf = buf.subarray(frame.size);
        const parts = frame.args.map(unpack);
        if (parts[parts.length - 1] !== id) continue;
        const msg = parts[0] as { args?: unknown[]; error?: unknown };
        if (msg && typeof msg === 'object' && 'error' in msg && msg.error) return finish(new Error(`PM2 ${method}: ${String(msg.error)}`));
        return finish(undefined, msg?.args?.[0]);
      }
    });
  });
}
