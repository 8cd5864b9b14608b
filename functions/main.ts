/**
 * The HTTP entry of the reconcile function that Knative runs.
 *
 * This is the skeleton laid by the test-bed issue: it serves the readiness
 * endpoint and answers every event with 501 until the reconcile function
 * (CloudEvents in, Kubernetes writes, status out) is wired in.
 *
 * @module
 */

/** Answers one HTTP request. */
export function handle(request: Request): Response {
  const url = new URL(request.url);
  if (url.pathname === "/healthz" || url.pathname === "/readyz") {
    return new Response("ok\n");
  }
  return Response.json(
    {
      error:
        "reconcile is not implemented yet: this build only serves /healthz",
    },
    { status: 501 },
  );
}

if (import.meta.main) {
  const port = Number(Deno.env.get("PORT") ?? "8080");
  Deno.serve({ port, hostname: "0.0.0.0" }, handle);
}
