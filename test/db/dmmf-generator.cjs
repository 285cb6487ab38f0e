// A Prisma generator that writes the DMMF data model (models, fields, enums, indexes), exactly as
// Prisma hands it to every generator, to the file named by its `output`. Used by
// prisma-datamodel.ts; the Prisma CLI runs it as a child process.
//
// Protocol (what @prisma/generator-helper implements): the CLI writes one JSON-RPC request per
// line to our stdin and reads our answers, one JSON object per line, from our stderr.
'use strict';
const { writeFileSync } = require('node:fs');
const { createInterface } = require('node:readline');

function reply(message) {
  process.stderr.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
}

createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', (line) => {
  if (!line.trim()) return;
  const request = JSON.parse(line);
  try {
    if (request.method === 'getManifest') {
      reply({ id: request.id, result: { manifest: { prettyName: 'DMMF data model dump', requiresEngines: [] } } });
    } else if (request.method === 'generate') {
      const output = request.params.generator.output && request.params.generator.output.value;
      if (!output) throw new Error('the dmmf generator needs an output path');
      writeFileSync(output, JSON.stringify(request.params.dmmf.datamodel, null, 2));
      reply({ id: request.id, result: null });
    } else {
      reply({ id: request.id, error: { code: -32601, message: `Method not found: ${request.method}` } });
    }
  } catch (err) {
    reply({ id: request.id, error: { code: -32000, message: String((err && err.stack) || err) } });
  }
});
