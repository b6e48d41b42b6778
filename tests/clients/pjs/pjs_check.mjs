// polkadot.js against a node: the Aura and GRANDPA authorities, three finalized heads from
// chain_subscribeFinalizedHeads, and system_health. Prints one JSON line; exits non-zero on
// failure or after 90 s.
// Usage: node pjs_check.mjs WS_URL
import { ApiPromise, WsProvider } from '@polkadot/api';

const timer = setTimeout(() => {
  console.error('timed out');
  process.exit(2);
}, 90_000);

const api = await ApiPromise.create({
  provider: new WsProvider(process.argv[2]),
  noInitWarn: true,
  throwOnConnect: true,
});
const aura = (await api.query.aura.authorities()).map((a) => a.toString());
const grandpa = (await api.query.grandpa.authorities()).map(([id, weight]) => [id.toString(), weight.toNumber()]);
const finalized = [];
await new Promise((resolve, reject) => {
  api.rpc.chain
    .subscribeFinalizedHeads((header) => {
      finalized.push(header.number.toNumber());
      if (finalized.length >= 3) resolve();
    })
    .catch(reject);
});
const health = await api.rpc.system.health();
console.log(JSON.stringify({ aura, grandpa, finalized, peers: health.peers.toNumber() }));
clearTimeout(timer);
await api.disconnect();
process.exit(0);
