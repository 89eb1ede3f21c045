// The one Kubernetes client the project uses: @kubernetes/client-node 1.x behind a few
// plain methods. Objects are applied with server-side apply under one field manager.
import { Agent } from 'node:https';
import * as k8s from '@kubernetes/client-node';

export const FIELD_MANAGER = 'svc-conformance';

export class Kube {
  readonly config: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly discovery: k8s.DiscoveryV1Api;
  readonly networking: k8s.NetworkingV1Api;
  readonly rbac: k8s.RbacAuthorizationV1Api;
  readonly objects: k8s.KubernetesObjectApi;

  constructor(kubeconfigPath: string, context?: string) {
    this.config = new KeptAliveConfig();
    this.config.loadFromFile(kubeconfigPath);
    if (context) this.config.setCurrentContext(context);
    this.core = this.config.makeApiClient(k8s.CoreV1Api);
    this.apps = this.config.makeApiClient(k8s.AppsV1Api);
    this.discovery = this.config.makeApiClient(k8s.DiscoveryV1Api);
    this.networking = this.config.makeApiClient(k8s.NetworkingV1Api);
    this.rbac = this.config.makeApiClient(k8s.RbacAuthorizationV1Api);
    this.objects = k8s.KubernetesObjectApi.makeApiClient(this.config);
  }

  /** Creates or updates each object (server-side apply), in order. */
  async apply<T extends k8s.KubernetesObject>(...objects: T[]): Promise<T[]> {
    const applied: T[] = [];
    for (const object of objects) {
      applied.push(
        await this.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply),
      );
    }
    return applied;
  }

  /** Deletes an object; a missing one is not an error. */
  async deleteIfPresent(object: k8s.KubernetesObject, gracePeriodSeconds?: number): Promise<void> {
    try {
      await this.objects.delete(object, undefined, undefined, gracePeriodSeconds, undefined, 'Background');
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

/**
 * A KubeConfig whose requests share one kept-alive TLS connection pool. client-node gives every
 * request a new https.Agent, so each one made a new TLS connection and handshake, which costs
 * both this process and the API server CPU; the agent made here carries the same TLS options,
 * and is made again when they change (an exec credential plugin that hands out a new client
 * certificate). A proxy's agent (HTTP or SOCKS) is left as client-node made it.
 */
class KeptAliveConfig extends k8s.KubeConfig {
  #agent?: Agent;
  #tls = '';

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const made = context.getAgent();
    if (made?.constructor !== Agent) return;
    const { options } = made as Agent;
    // The kubeconfig's files are read again for every request: compared by content, as text.
    const tls = [options.ca, options.cert, options.key, options.pfx, options.rejectUnauthorized, options.servername]
      .map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : String(v)))
      .join('\0');
    if (!this.#agent || tls !== this.#tls) {
      this.#agent?.destroy();
      this.#agent = new Agent({ ...options, keepAlive: true });
      this.#tls = tls;
    }
    context.setAgent(this.#agent);
  }
}

export function isNotFound(error: unknown): boolean {
  return statusCode(error) === 404;
}

/** The HTTP status of a client-node ApiException, if that is what this is. */
export function statusCode(error: unknown): number | undefined {
  return error instanceof k8s.ApiException ? error.code : undefined;
}
