/**
 * The benchmark's yardstick: a bare Fastify server answering a small JSON object, no hooks, no logging. Every
 * scenario's throughput is reported as a ratio of this server's, measured on the same machine in the same run.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get(
  '/hello',
  { schema: { response: { 200: { type: 'object', properties: { hello: { type: 'string' } } } } } },
  async () => ({ hello: 'world' }),
);
const port = Number(process.env.PORT ?? 0);
app.listen({ host: '127.0.0.1', port }).then(
  (url) => process.stdout.write(`listening ${url}\n`),
  (err: unknown) => {
    process.stderr.write(`baseline could not listen: ${String(err)}\n`);
    process.exit(1);
  },
);
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
