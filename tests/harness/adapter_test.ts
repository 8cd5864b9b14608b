import assert from "node:assert/strict";
import { countWatches } from "./adapter.ts";

const METRICS =
  `# HELP apiserver_longrunning_requests [ALPHA] Gauge of all active long-running apiserver requests
# TYPE apiserver_longrunning_requests gauge
apiserver_longrunning_requests{component="apiserver",group="",resource="configmaps",scope="namespace",subresource="",verb="WATCH",version="v1"} 2
apiserver_longrunning_requests{component="apiserver",group="",resource="configmaps",scope="cluster",subresource="",verb="WATCH",version="v1"} 1
apiserver_longrunning_requests{component="apiserver",group="",resource="pods",scope="namespace",subresource="log",verb="CONNECT",version="v1"} 4
apiserver_longrunning_requests{component="apiserver",group="apps",resource="statefulsets",scope="namespace",subresource="",verb="WATCH",version="v1"} 1
apiserver_request_total{code="200",component="apiserver",group="",resource="configmaps",verb="WATCH"} 9
`;

Deno.test("countWatches sums open WATCH requests of one resource over scopes", () => {
  assert.equal(countWatches(METRICS, "", "configmaps"), 3);
  assert.equal(countWatches(METRICS, "apps", "statefulsets"), 1);
});

Deno.test("countWatches ignores other verbs, subresources and groups", () => {
  assert.equal(countWatches(METRICS, "", "pods"), 0);
  assert.equal(countWatches(METRICS, "", "statefulsets"), 0);
  assert.equal(countWatches("", "", "configmaps"), 0);
});
