/**
 * The versions of the real components the test bed builds. The Go wrapper
 * modules under `tests/go/` pin the same versions; a unit test fails when
 * they drift apart.
 *
 * @module
 */

/** k8s.io/kubernetes: kube-apiserver and kubectl. */
export const KUBERNETES_VERSION = "v1.35.4";
/** go.etcd.io/etcd/server/v3. */
export const ETCD_VERSION = "v3.6.16";
/** knative.dev/eventing: the ApiServerSource receive adapter and its CRDs. */
export const EVENTING_VERSION = "v0.50.0";
/** knative.dev/serving: the Knative Service CRD. */
export const SERVING_VERSION = "v0.50.0";
