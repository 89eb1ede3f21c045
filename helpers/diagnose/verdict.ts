// The guide's decision tree over the evidence, layer by layer from the bottom: the control
// plane, the pods, the pod network (the path matrix and each node's settings), the Service's
// definition and endpoints, kube-proxy and its rules, the VIP, DNS. A layer is blamed only when
// the layers under it were checked and work; the first that fails is the likely root cause.
// One line: the section, what is wrong (with the node and hop), the next step.
import { controlPlaneCause, type ControlPlaneCause } from './control-plane.js';
import { rulesMismatch, type Evidence } from './evidence.js';
import { topologyChoice } from './proxy-spec.js';
import { GUIDE, titleAndNext, type GuideSection } from './guide.js';
import { kubernetesZones, reverseLookup, servesDomain } from '../parse/corefile.js';
import { describeProxyProcess, duration } from './kube-proxy-process.js';
import { familyOnlySettings, invalidAcceptedOn, settingsExplaining } from './node-layer.js';
import { overlayMtuProblem } from './overlay.js';
import { readDnsLayer, readPodLayer, readServiceLayer, type Fit, type PathReading } from './path-matrix.js';
import { definedSection, type Section } from './sections.js';

export interface Verdict {
  /** The guide's section, or the section a project defined. */
  section: GuideSection | Section;
  cause: string;
  next: string;
  /** The evidence shows nothing wrong: the verdict only names the failing spec's section. */
  nothingFound?: boolean;
}

/**
 * `fallback`: the section of the failing spec, named when the evidence shows nothing wrong
 * (the NodePort spec's data path is not the ClusterIP's).
 */
export function verdict(
  ev: Evidence,
  dnsIP: string,
  clusterDomain: string,
  fallback: GuideSection | Section = 'ip',
  failedChecks: string[] = [],
): Verdict {
  const say = (section: GuideSection, cause: string, next: string = GUIDE[section].next): Verdict => ({
    section,
    cause,
    next,
  });
  const id = `${ev.namespace}/${ev.service}`;
  const unready = ev.pods.filter((p) => !p.ready);

  const controlPlane = controlPlaneOf(ev);
  if (controlPlane) return say('controlPlane', controlPlane.cause, controlPlane.next);
  // An out-of-window segment reset a connection, or the check of the protection failed, and a node's rule accepts INVALID
  // packets before kube-proxy's drop: the cause, whatever the spec's other Services show (the matrix cannot show it, only
  // out-of-window segments are INVALID; a focused run never makes the Services of the checks it leaves out).
  const invalid = invalidAcceptedOn(ev.nodes.flatMap((n) => (n.layer ? [n.layer] : [])));
  if (invalid.nodes.length && failedChecks.some((c) => /out-of-window|conntrack-INVALID/i.test(c)))
    return say(
      'conntrack',
      `${invalid.nodes.join(', ')} ${invalid.nodes.length === 1 ? 'accepts' : 'accept'} conntrack-INVALID packets before kube-proxy's drop: ${invalid.settings.join('; ')}; with nf_conntrack_tcp_be_liberal 0, an out-of-window TCP segment a backend sends is INVALID, is not un-NATed, and reaches the client from the backend's pod IP, so the client resets the connection (kubernetes#74839)`,
      "remove that rule, or move it after the jump to KUBE-FORWARD (kube-proxy's ct state INVALID drop); a host firewall or hardening script that accepts INVALID must not come first in FORWARD",
    );
  if (!ev.found) return say('exists', `Service ${id} does not exist`);
  // A Service without a selector whose endpoints someone lists (EndpointSlices made by hand) is no fault.
  const handListed = !Object.keys(ev.serviceSpec?.selector ?? {}).length && ev.slices.length + ev.endpoints.length > 0;
  if (ev.selectorExplanation && ev.pods.length === 0 && !handListed) return say('endpoints', ev.selectorExplanation);
  if (ev.pods.length > 0 && unready.length === ev.pods.length)
    return say('pods', `no pod of ${id} is Ready: ${unready.map((p) => p.summary).join('; ')}`);

  const podLayer = ev.path && readPodLayer(ev.path);
  if (podLayer) return pathVerdict(podLayer, ev);
  // Every pod IP answers a small connection; pods larger than the overlay lose only large packets between nodes.
  const mtu = ev.nodes.flatMap((n) => overlayMtuProblem(n.node, n.layer?.overlay) ?? []);
  if (mtu.length)
    return say(
      'nodeNetwork',
      mtu.join('; '),
      "make the pods fit the overlay: flanneld sets flannel.1 and FLANNEL_MTU from its interface's MTU when it starts, so restart it after the underlay's MTU changed (or restore that MTU); the CNI config's mtu must be FLANNEL_MTU; then recreate the pods",
    );
  if (ev.definitionProblems.length) return say('definition', ev.definitionProblems[0]);
  if (unready.length)
    return say(
      'endpoints',
      `${unready.length} of ${ev.pods.length} pods of ${id} are not Ready, so they left its endpoints: ${unready.map((p) => p.summary).join('; ')}`,
    );

  const noProxy = ev.nodes.filter((n) => n.kubeProxy && !n.kubeProxy.running);
  // A process that is there but does not answer is another fault than none at all: its state says which.
  const hung = noProxy.filter((n) => n.proxyProcesses?.length);
  if (hung.length)
    return say(
      'kubeProxy',
      hung
        .map((n) => {
          const synced =
            n.lastSync !== undefined
              ? `its last rules sync was ${duration(Date.now() / 1000 - n.lastSync)} ago`
              : 'its metrics do not answer either, so its last rules sync is unknown';
          return `kube-proxy on ${n.node} is hung, not gone: ${n.proxyProcesses!.map(describeProxyProcess).join('; ')}; ${synced} (${n.kubeProxy!.problem})`;
        })
        .join('; '),
      'the process exists but does not answer: if something stopped it, send SIGCONT; else take a goroutine dump (kill -QUIT) for its log, look for a held /run/xtables.lock, and restart it',
    );
  if (noProxy.length)
    return say(
      'kubeProxy',
      `kube-proxy is not running on ${noProxy.map((n) => `${n.node} (${n.proxyProcesses ? 'no kube-proxy process; ' : ''}${n.kubeProxy!.problem})`).join(', ')}`,
    );

  for (const node of ev.nodes) {
    const { missing, stale } = rulesMismatch(ev, node);
    // Ready endpoints the node's hints leave out, yet its rules send to: kube-proxy ignores the topology hints.
    const hinted = topologyChoice(
      ev.slices.filter((e) => e.ready),
      node.node,
      ev.nodeZones?.[node.node],
    );
    const ignoredHints =
      hinted.by &&
      !missing.length &&
      stale.length &&
      stale.every((a) => ev.slices.some((e) => e.ready && e.address === a));
    if (ignoredHints)
      return say(
        'trafficDistribution',
        `kube-proxy's rules on ${node.node} ignore the topology hints of ${id}: they send to ${stale.join(', ')} too, though only ${hinted.endpoints.map((e) => e.address).join(', ')} ${hinted.endpoints.length === 1 ? 'is' : 'are'} ${hinted.by}`,
      );
    if (missing.length || stale.length) {
      const detail = [
        missing.length && `no rule for ${missing.join(', ')}`,
        stale.length && `stale rule for ${stale.join(', ')}`,
      ]
        .filter(Boolean)
        .join('; ');
      return say('rules', `kube-proxy's rules on ${node.node} do not match the endpoints of ${id}: ${detail}`);
    }
  }

  // The rules exist and send to the right endpoints: do they implement the rest of the Service's spec?
  const wrongRules = ev.nodes.flatMap((n) => n.ruleProblems ?? []);
  if (wrongRules.length) {
    const first = wrongRules[0];
    const same = wrongRules.filter((p) => p.section === first.section).map((p) => p.problem);
    return say(first.section, same.join('; '), GUIDE[first.section].next);
  }
  const stale = ev.nodes.filter((n) => n.staleUdp?.length);
  if (stale.length)
    return say(
      'udp',
      `kube-proxy did not clear the conntrack entries of ${id} that still send UDP flows to an address that is no ready endpoint: ${stale.map((n) => `on ${n.node}, ${n.staleUdp!.slice(0, 3).join(', ')}${n.staleUdp!.length > 3 ? ` and ${n.staleUdp!.length - 3} more` : ''}`).join('; ')}`,
      "kube-proxy deletes a UDP Service's conntrack entries when an endpoint goes (conntrack -D -p udp --orig-dst <ClusterIP> --reply-src <old pod IP>); read its log for conntrack errors, and check the conntrack tool and netlink access on the node",
    );

  const vip = ev.path && readServiceLayer(ev.path);
  if (vip) return pathVerdict(vip, ev);
  // A check of the second family failed: the matrix asked the primary family's pod IPs, which pass, so a node's
  // firewall of the other family alone (ip6tables, an ip6 nft table) is the cause it cannot show.
  const primary = primaryFamily(ev);
  const second = primary === 4 ? 6 : primary === 6 ? 4 : undefined;
  const secondFailed =
    second && failedChecks.some((c) => new RegExp(`IPv${second}|second family|dual-stack`, 'i').test(c));
  const secondDrops = secondFailed ? familyOnlySettings(layersOf(ev), second) : [];
  if (secondDrops.length) {
    const nodes = [...new Set(secondDrops.map((s) => s.node))];
    return say(
      'nodeNetwork',
      `${nodes.join(', ')} ${nodes.length === 1 ? 'drops' : 'drop'} the cluster's IPv${second} traffic: ${secondDrops.map((s) => s.setting).join('; ')} (only IPv${second} is filtered there: the path matrix's IPv${primary} pod IPs answer from every node)`,
      secondDrops[0].next,
    );
  }

  if (ev.coredns.readyPods === 0)
    return say(
      'dns',
      `CoreDNS has no ready pods (${ev.coredns.pods.join('; ') || 'none exist: scaled to 0?'})`,
      'scale CoreDNS up and check why its pods are not ready (kubectl -n kube-system get deploy coredns)',
    );
  // CoreDNS answers only the zones its kubernetes plugin names: another domain than kubelet's leaves every cluster name unanswered.
  const zones = ev.coredns.corefile !== undefined ? kubernetesZones(ev.coredns.corefile) : undefined;
  if (zones && !servesDomain(zones, clusterDomain)) {
    const served = zones.filter((z) => !z.endsWith('.arpa'));
    return say(
      'anyDns',
      zones.length
        ? `CoreDNS serves ${served.join(', ') || zones.join(', ')}, pods ask for ${clusterDomain}: the kubernetes plugin in its Corefile (ConfigMap kube-system/coredns) has zones ${zones.join(' ')}, not kubelet's clusterDomain ${clusterDomain}`
        : `CoreDNS's Corefile (ConfigMap kube-system/coredns) has no kubernetes plugin, so nothing answers for ${clusterDomain}`,
      `make the Corefile's server block and kubernetes plugin name ${clusterDomain} (or set kubelet's clusterDomain to the domain CoreDNS serves), then restart CoreDNS`,
    );
  }
  const dns = ev.path && readDnsLayer(ev.path);
  if (dns?.fit === 'dns-udp') return pathVerdict(dns, ev);
  if (dns?.fit === 'coredns')
    return say('anyDns', `CoreDNS takes connections at its pod IPs but does not answer: ${dns.pattern}`);
  if (dns?.fit === 'dns-vip')
    return say(
      'rules',
      `the kube-dns Service IP ${dnsIP} does not answer though CoreDNS does at its pod IPs: ${dns.pattern}`,
      "read kube-proxy's rules for kube-system/kube-dns on that node (iptables-save | grep kube-dns, or nft list table ip kube-proxy)",
    );
  const conf = ev.resolvConf?.conf;
  if (conf && !conf.nameservers.includes(dnsIP)) {
    return say(
      'dns',
      `pod ${ev.resolvConf!.pod}'s resolv.conf names ${conf.nameservers.join(', ') || 'no nameserver'}, not the kube-dns Service IP ${dnsIP}: kubelet's clusterDNS is wrong`,
      'fix kubelet --cluster-dns (KubeletConfiguration clusterDNS) to the kube-dns Service IP and recreate the pods',
    );
  }
  if (conf && (conf.options.ndots !== '5' || !conf.search.includes(`svc.${clusterDomain}`))) {
    return say(
      'dns',
      `pod ${ev.resolvConf!.pod}'s resolv.conf has search "${conf.search.join(' ')}" and ndots ${conf.options.ndots ?? 'unset'}, not what kubelet writes for ClusterFirst`,
    );
  }
  // A PTR check failed, and the kubernetes plugin's zones do not hold the reverse name of the Service's address.
  const unserved =
    ev.coredns.corefile !== undefined && failedChecks.some((c) => /\bPTR\b/.test(c))
      ? reverseLookupsOf(ev.coredns.corefile, ev.serviceSpec).filter((r) => !r.served)
      : [];
  if (unserved.length) {
    const r = unserved[0];
    const zone = r.name.endsWith('.ip6.arpa') ? 'ip6.arpa' : 'in-addr.arpa';
    const answer = !r.block
      ? 'no server block takes them, so CoreDNS refuses them'
      : r.others.length
        ? `they go to the server block ${r.block.join(' ')}, where only ${r.others.join(', ')} can answer them, not with the cluster's names`
        : `they go to the server block ${r.block.join(' ')}, where no plugin answers them: SERVFAIL`;
    return say(
      'anyDns',
      `CoreDNS's kubernetes plugin does not serve ${zone} (its zones in the Corefile, ConfigMap kube-system/coredns: ${kubernetesZones(ev.coredns.corefile!).join(' ') || 'none'}), so PTR queries of ClusterIPs and pod IPs get no record from it: ${r.name} (${r.address}) is not in its zones; ${answer}`,
      'add in-addr.arpa and ip6.arpa (or the reverse zones of the Service and pod ranges) to the kubernetes plugin in the Corefile, as kubeadm writes it (`kubernetes cluster.local in-addr.arpa ip6.arpa`), with `fallthrough in-addr.arpa ip6.arpa`; CoreDNS reloads it',
    );
  }
  const hairpinOff = ev.nodes.flatMap((n) => n.hairpin ?? []).filter((h) => !h.on);
  if (hairpinOff.length)
    return say(
      'hairpin',
      `hairpin is off for ${hairpinOff.map((h) => `pod ${h.pod}: ${h.description}`).join('; ')}: a pod cannot reach itself through its Service IP`,
    );
  // A check of kube-proxy's own rules failed in this spec: the evidence did not find it, but it does not clear kube-proxy.
  // (nothingFound: another Service of the spec whose evidence names the fault goes first.)
  const proxyCheck = failedChecks.find((c) => /kube-proxy/i.test(c.split(':')[0]));
  if (proxyCheck)
    return {
      ...say(
        'rules',
        `the spec's own check of kube-proxy's rules failed (${proxyCheck.slice(0, 300)}); the rules read for ${id} match its endpoints and spec as far as this diagnosis compares them, so read the check's message for the rule it found wrong`,
      ),
      nothingFound: true,
    };
  const cause =
    "the Service, its endpoints, kube-proxy's rules for it (endpoints, affinity, traffic policies) and DNS all look right in the evidence; the fault is in the data path (CNI, hairpin, conntrack, or rules outside kube-proxy's chains): see the diagnostics file";
  return { section: fallback, cause, next: titleAndNext(fallback).next, nothingFound: true };
}

/** The family of the pods' primary IPs, which the path matrix asks; undefined when no pod has one. */
function primaryFamily(ev: Evidence): 4 | 6 | undefined {
  const ip = ev.pods.find((p) => p.ip)?.ip ?? ev.coredns.ready[0]?.ip;
  return ip ? (ip.includes(':') ? 6 : 4) : undefined;
}

const layersOf = (ev: Evidence) => ev.nodes.flatMap((n) => (n.layer ? [n.layer] : []));

/** For each ClusterIP of the Service: where CoreDNS sends the PTR query of it. */
function reverseLookupsOf(corefile: string, spec: Evidence['serviceSpec']) {
  const addresses = (spec?.clusterIPs ?? (spec?.clusterIP ? [spec.clusterIP] : [])).filter((a) => a !== 'None');
  return addresses.flatMap((address) => {
    const r = reverseLookup(corefile, address);
    return r ? [{ ...r, address }] : [];
  });
}

/** The control-plane part whose work the evidence shows missing, if any (checked before anything else). */
export function controlPlaneOf(ev: Evidence): ControlPlaneCause | undefined {
  if (!ev.controlPlane) return undefined;
  return controlPlaneCause(
    ev.controlPlane,
    ev.found
      ? {
          id: `${ev.namespace}/${ev.service}`,
          readyPods: ev.pods.filter((p) => p.ready).length,
          slices: ev.sliceObjects ?? ev.slices.length,
          wellDefined: ev.definitionProblems.length === 0 && !ev.selectorExplanation,
        }
      : undefined,
  );
}

/** A broken hop of the path matrix, with the node setting that explains it when one was read. */
function pathVerdict(reading: PathReading, ev: Evidence): Verdict {
  const layers = ev.nodes.flatMap((n) => (n.layer ? [n.layer] : []));
  if (reading.dead) {
    const coredns = reading.dead.every((t) => ev.coredns.ready.some((c) => t.endsWith(`(${c.pod})`)));
    return coredns
      ? {
          section: 'anyDns',
          cause: `CoreDNS does not take connections at its pod IPs: ${reading.pattern}`,
          next: GUIDE.anyDns.next,
        }
      : { section: 'pods', cause: `pods do not answer at their pod IPs: ${reading.pattern}`, next: GUIDE.pods.next };
  }
  // The matrix asks the pods' primary IPs: settings of the other address family explain none of it.
  const explained = settingsExplaining(reading, layers, primaryFamily(ev));
  const section: GuideSection = reading.layer === 'ClusterIP' && !explained ? 'proxying' : 'nodeNetwork';
  if (explained) {
    // The settings of the first kind found (the same setting on several nodes is said for each node).
    const first = explained.settings[0];
    const same = explained.settings.filter((s) => s.explains[0] === first.explains[0]).map((s) => s.setting);
    const headline =
      (explained.fit === 'dns-udp'
        ? `${[...new Set(explained.settings.filter((s) => s.explains[0] === first.explains[0]).map((s) => s.node))].join(', ')} drops DNS queries over UDP on their way to CoreDNS (the same queries over TCP are answered)`
        : headlineOf(explained.fit, explained.nodes)) ??
      `the ${reading.layer} hop fails on ${explained.nodes.join(', ')} in a pattern no single fault explains`;
    return { section, cause: `${headline}: ${[...new Set(same)].join('; ')} (${reading.pattern})`, next: first.next };
  }
  const headline =
    [reading, ...reading.alternatives]
      .map((r) => headlineOf(r.fit, r.nodes))
      .filter(Boolean)
      .join(', or ') ||
    `the ${reading.layer} hop fails in a pattern no single node's fault explains (on ${reading.nodes.join(', ') || 'several nodes'})`;
  const read = layers.length
    ? `no setting read on ${reading.nodes.join(', ') || 'the nodes'} explains it (forwarding, firewall, routes, conntrack)`
    : "the nodes' own settings could not be read (no node access)";
  return {
    section,
    cause: `${headline}; ${read} (${reading.pattern})`,
    next:
      reading.fit === 'pods'
        ? "check the pods on that node (their logs) and the CNI's setup of that node"
        : section === 'proxying'
          ? GUIDE.proxying.next
          : "check the CNI on that node (its logs, its routes and the node's firewall)",
  };
}

/** What a fit of the path matrix means, on its nodes. */
function headlineOf(fit: Fit | undefined, nodes: string[]): string | undefined {
  const [a, b] = nodes;
  const what: Record<Fit, string> = {
    forwarding: `${a} does not forward pod traffic`,
    filtering: `${a} drops the pod traffic it forwards`,
    route: `nothing on ${a} reaches ${b}'s pods, and ${b}'s pods get no answer from ${a}'s`,
    routes: `no node reaches another node's pods, and only same-node backends answer (${nodes.join(', ')})`,
    pods: `nothing reaches the pods on ${nodes.join(', ')}, not even from their own node`,
    proxy: `nothing on ${nodes.join(', ')} reaches the Service's ClusterIP though its backends answer at their pod IPs`,
    'same-node-vip': `pods on ${nodes.join(', ')} reach their own node's backends at their pod IPs but not through the ClusterIP`,
    coredns: 'CoreDNS takes connections but does not answer',
    'dns-vip': 'the kube-dns Service IP does not answer though CoreDNS does',
    'dns-udp': `DNS queries over UDP to CoreDNS get no answer through ${nodes.join(', ')} while the same queries over TCP do: a filter drops DNS over UDP on the way`,
  };
  return fit && what[fit];
}

/** The section, the guide's or a project's, whose title is `title` (a spec's describe name), if any. */
export function sectionTitled(title: string | undefined): GuideSection | Section | undefined {
  return (Object.keys(GUIDE) as GuideSection[]).find((key) => GUIDE[key].section === title) ?? definedSection(title);
}

/** A project's section with a rule of its own: its verdict when the rule names a cause. */
export function sectionVerdict(section: Section, ev: Evidence, lines: string[]): Verdict | undefined {
  const cause = section.verdict?.(ev, lines);
  return cause ? { section, cause, next: section.next } : undefined;
}

export function formatVerdict(v: Verdict): string {
  return `verdict [${titleAndNext(v.section).title}]: ${v.cause} → next: ${v.next}`;
}
