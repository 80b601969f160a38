/**
 * The floor: a plain node:http pass-through proxy (keep-alive to the upstream, bodies piped both
 * ways, nothing parsed). Whatever a gateway adds is measured against this. Argument: the upstream URL.
 */
import http from 'node:http';

const upstream = new URL(process.argv[2]!);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
const server = http.createServer((request, response) => {
  const outgoing = http.request(
    { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url!.replace(/^\/v1/, upstream.pathname), headers: request.headers, agent },
    (answer) => {
      response.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(response);
    },
  );
  outgoing.on('error', () => response.destroy());
  request.pipe(outgoing);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1` }));
