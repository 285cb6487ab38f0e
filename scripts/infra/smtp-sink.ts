import { SMTPServer } from 'smtp-server';

/** A message the sink received, with the headers tests and the dev console care about. */
export interface ReceivedMail {
  from: string;
  to: string[];
  messageId: string | undefined;
  subject: string | undefined;
  raw: string;
}

function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const match = unfolded.match(new RegExp(`^${name}:\\s*(.*)$`, 'im'));
  return match?.[1]?.trim();
}

/**
 * A real SMTP server that accepts every message and keeps it: the local mail sink for
 * `npm run dev` and the receiving end in tests. No authentication, loopback only.
 */
export interface SmtpSinkOptions {
  port: number;
  onMail?: (mail: ReceivedMail) => void;
  /**
   * Runs after a message is kept and before the server answers 250 to it, which is held until the
   * promise settles: tests use it to act at the exact moment the sender's SMTP call succeeds.
   */
  beforeAccept?: (mail: ReceivedMail) => Promise<void>;
  /** The server closes a connection idle this long (smtp-server's default: 60 s); tests shorten it. */
  idleTimeoutMs?: number;
}

export interface SmtpSink {
  url: string;
  port: number;
  received: ReceivedMail[];
  /** Connections open now, and accepted since the start. */
  connections(): { open: number; accepted: number };
  /**
   * Stops accepting connections and ends the open ones that are between mails at once (421, as
   * a server going down does); one in the middle of a mail may finish it (smtp-server's grace
   * period). Resolves when every connection is closed.
   */
  stop(): Promise<void>;
}

export async function startSmtpSink(opts: SmtpSinkOptions): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  let accepted = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    ...(opts.idleTimeoutMs === undefined ? {} : { socketTimeout: opts.idleTimeoutMs }),
    onConnect(_session, callback) {
      accepted += 1;
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          messageId: header(raw, 'Message-ID'),
          subject: header(raw, 'Subject'),
          raw,
        };
        received.push(mail);
        opts.onMail?.(mail);
        if (!opts.beforeAccept) return callback();
        opts.beforeAccept(mail).then(() => callback(), (err: Error) => callback(err));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  // A client that drops its connection in the middle of a mail is the client's failure, not the
  // sink's; any other error still fails loudly, as it did without a listener.
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ECONNABORTED') return;
    throw err;
  });
  const port = (server.server.address() as { port: number }).port;
  let stopped: Promise<void> | undefined;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    connections: () => ({ open: server.connections.size, accepted }),
    stop: () => stopped ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Without this, a client that keeps its connection open between mails (a pooled sender)
      // would hold the close for smtp-server's whole grace period (30 s).
      for (const connection of server.connections) {
        if (connection.session?.envelope?.mailFrom) continue; // in the middle of a mail
        connection.send(421, 'Server shutting down');
        connection.close();
      }
    }),
  };
}
