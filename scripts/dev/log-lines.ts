/** Prints a child's pino JSON lines as `[name] LEVEL message {fields}`; other lines as they are. */
export function printLogLines(name: string, stream: NodeJS.ReadableStream): void {
  let buffered = '';
  const levels: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const { level, msg, time: _t, pid: _p, hostname: _h, name: _n, ...rest } = JSON.parse(line) as Record<string, unknown>;
        const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
        console.log(`[${name}] ${levels[level as number] ?? level} ${String(msg)}${extra}`);
      } catch {
        console.log(`[${name}] ${line}`);
      }
    }
  });
}
