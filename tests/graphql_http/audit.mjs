// Runs graphql-http's server audits (GraphQL over HTTP conformance) against a Muster server.
// Usage: node audit.mjs <url>, with MUSTER_TOKEN in the environment (a real API token, sent as
// a bearer on every request through fetchFn). Prints one JSON array of {id, name, status, reason}.
import { serverAudits } from "graphql-http";

const [url] = process.argv.slice(2);
const authorization = `Bearer ${process.env.MUSTER_TOKEN}`;

function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", authorization);
  return fetch(input, { ...init, headers });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === "ok" ? null : result.reason,
  });
}
process.stdout.write(JSON.stringify(results));
