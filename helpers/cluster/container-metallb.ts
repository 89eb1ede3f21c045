// MetalLB on the clusters whose nodes are containers on the Docker network svc-kind (kind, k3s;
// ./metallb.ts installs it, as on local clusters): its images in every node's containerd, and
// its pool, each family's LoadBalancer range of that network. A pool must lie in the network's
// subnet, so the nodes and the outside client ask the segment for its addresses (ARP/NDP, which
// the speakers answer), and off the range Docker assigns containers (setup/kind/network.sh).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { run } from '../host/run.js';
import { parseAddressRange, rangeContains, rangesOverlap } from '../parse/cidr.js';
import type { Settings } from '../settings.js';
import { METALLB_IMAGE_ARCHIVES } from './metallb.js';

type Family = 'IPv4' | 'IPv6';

/** Each family's pool (SVC_KIND_LB_IP_RANGE, SVC_KIND_LB_IP_RANGE6), in the cluster's family order. */
export function containerLoadBalancerRanges(settings: Settings, families: Family[]): string[] {
  return families.map((f) => (f === 'IPv6' ? settings.kind.loadBalancerIPRange6 : settings.kind.loadBalancerIPRange));
}

/** Refuses, before anything is made, a pool the nodes' segment would not carry or Docker could give a container. */
export async function checkPoolOnNetwork(settings: Settings, pools: string[]): Promise<void> {
  const network = settings.kind.network;
  const format = '{{range .IPAM.Config}}{{.Subnet}} {{.IPRange}},{{end}}';
  const { stdout } = await run('docker', ['network', 'inspect', '-f', format, network]);
  const subnets = stdout
    .split(',')
    .map((c) => c.trim().split(' '))
    .filter(([subnet]) => subnet)
    .map(([subnet, assigned]) => ({ subnet, assigned }));
  const seen = subnets.map((s) => `${s.subnet} (Docker assigns ${s.assigned || 'all of it'})`).join(', ');
  const fix =
    'set SVC_KIND_LB_IP_RANGE / SVC_KIND_LB_IP_RANGE6 inside a subnet and off its assigned range, or run `npm run setup -- --kind` (setup/kind/network.sh makes the network with the default ranges)';
  for (const pool of pools) {
    const range = parseAddressRange(pool);
    if (!range) throw new UsageError(`the LoadBalancer range "${pool}" is not an address range; ${fix}`);
    const home = subnets.find((s) => rangeContains(parseAddressRange(s.subnet)!, range));
    const assigned = home?.assigned ? parseAddressRange(home.assigned) : undefined;
    if (!home || !assigned || rangesOverlap(assigned, range))
      throw new UsageError(
        `the LoadBalancer range ${pool} must lie in a subnet of the Docker network ${network} and off the addresses Docker gives containers; it has ${seen}; ${fix}`,
      );
  }
}

/**
 * MetalLB's images in every node container's containerd: the local kind node image has them preloaded;
 * any other node gets setup's archives (`ctr images import`). False when setup built none.
 */
export async function metallbImagesOnNodes(containers: string[], settings: Settings): Promise<boolean> {
  const wanted = [settings.images.metallbController, settings.images.metallbSpeaker].map(qualified);
  const lacking = async () => {
    const out: string[] = [];
    for (const node of containers) {
      const listed = (await run('docker', ['exec', node, 'ctr', '-n', 'k8s.io', 'images', 'ls', '-q'])).stdout;
      if (wanted.some((image) => !listed.split('\n').includes(image))) out.push(node);
    }
    return out;
  };
  const missing = await lacking();
  if (missing.length === 0) return true;
  const archives = METALLB_IMAGE_ARCHIVES.map((i) => join(settings.cacheDir, 'images', `${i}.tar`));
  if (!archives.every((a) => existsSync(a))) return false;
  for (const node of missing) {
    for (const archive of archives) {
      const inNode = `/tmp/svc-conformance-${METALLB_IMAGE_ARCHIVES[archives.indexOf(archive)]}.tar`;
      await run('docker', ['cp', archive, `${node}:${inNode}`]);
      await run('docker', ['exec', node, 'ctr', '-n', 'k8s.io', 'images', 'import', inNode], { timeoutMs: 5 * 60_000 });
      await run('docker', ['exec', node, 'rm', '-f', inNode]);
    }
  }
  const still = await lacking();
  if (still.length > 0)
    throw new Error(
      `MetalLB's images ${wanted.join(', ')} are not on ${still.join(', ')} after importing ${archives.join(', ')}: SVC_IMAGE_METALLB_* names images those archives do not hold`,
    );
  return true;
}

/** An image name as containerd lists it: short names belong to docker.io. */
function qualified(image: string): string {
  const first = image.split('/')[0];
  if (image.includes('/') && (/[.:]/.test(first) || first === 'localhost')) return image;
  return `docker.io/${image.includes('/') ? '' : 'library/'}${image}`;
}
