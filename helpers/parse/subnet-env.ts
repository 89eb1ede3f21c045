// flanneld's /run/flannel/subnet.env (pkg/subnet WriteSubnetFile), what flannel's CNI plugin reads:
//   FLANNEL_NETWORK=10.226.0.0/16
//   FLANNEL_SUBNET=10.226.1.1/24        (the node's lease: its bridge's address and prefix)
//   FLANNEL_MTU=1450                    (the VXLAN device's MTU: what the pods' interfaces may carry)
//   FLANNEL_IPMASQ=true
// Parsed with Node's own dotenv reader (util.parseEnv), as flannel reads it with godotenv.
import { parseEnv } from 'node:util';
import { formatAddress, parseAddressRange } from './cidr.js';

export interface SubnetEnv {
  network: string;
  /** The node's pod range (network address), e.g. 10.226.1.0/24. */
  subnet: string;
  /** The first address of the lease, flannel's gateway for the node's pods (the bridge's address). */
  gateway: string;
  mtu: number;
  ipMasq: boolean;
}

/** Why: flannel's CNI plugin makes each pod's network from these four values; a missing one is flanneld not done. */
export function parseSubnetEnv(text: string): SubnetEnv | undefined {
  const env = parseEnv(text);
  const { FLANNEL_NETWORK: network, FLANNEL_SUBNET: lease, FLANNEL_MTU: mtu, FLANNEL_IPMASQ: ipMasq } = env;
  if (!network || !lease || !mtu || !Number.isInteger(Number(mtu))) return undefined;
  const range = parseAddressRange(lease);
  if (!range) return undefined;
  const [gateway, bits] = lease.split('/');
  return {
    network,
    subnet: `${formatAddress(range.family, range.first)}/${bits}`,
    gateway,
    mtu: Number(mtu),
    ipMasq: ipMasq === 'true',
  };
}
