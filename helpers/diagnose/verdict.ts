// The guide's decision tree over the evidence: the first check that fails, in the guide's
// order, is the likely root cause. One line: the guide section, what is wrong, the next step.
import type { Evidence, NodeEvidence } from './evidence.js';
import { GUIDE, titleAndNext, type GuideSection } from './guide.js';
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
): Verdict {
  const say = (section: GuideSection, cause: string, next: string = GUIDE[section].next): Verdict => ({
    section,
    cause,
    next,
  });
  const id = `${ev.namespace}/${ev.service}`;

  if (!ev.found) return say('exists', `Service ${id} does not exist`);
  if (ev.selectorExplanation && ev.pods.length === 0) return say('endpoints', ev.selectorExplanation);
  const unready = ev.pods.filter((p) => !p.ready);
  if (ev.pods.length > 0 && unready.length === ev.pods.length)
    return say('pods', `no pod of ${id} is Ready: ${unready.map((p) => p.summary).join('; ')}`);
  if (ev.definitionProblems.length) return say('definition', ev.definitionProblems[0]);
  if (unready.length)
    return say(
      'endpoints',
      `${unready.length} of ${ev.pods.length} pods of ${id} are not Ready, so they left its endpoints: ${unready.map((p) => p.summary).join('; ')}`,
    );

  const noProxy = ev.nodes.filter((n) => n.kubeProxy && !n.kubeProxy.running);
  if (noProxy.length)
    return say(
      'kubeProxy',
      `kube-proxy is not running on ${noProxy.map((n) => `${n.node} (${n.kubeProxy!.problem})`).join(', ')}`,
    );

  for (const node of ev.nodes) {
    const { missing, stale } = rulesMismatch(ev, node);
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

  const unrouted = ev.nodes.filter((n) => n.missingPodRoutes?.length);
  if (unrouted.length) {
    return say(
      'pods',
      `pod routes between nodes are missing: ${unrouted.map((n) => `${n.node} has no route to ${n.missingPodRoutes!.join(', ')}`).join('; ')}`,
      "check the CNI: each node needs a route to every other node's pod CIDR (only same-node backends answer)",
    );
  }

  if (ev.coredns.readyPods === 0)
    return say(
      'dns',
      `CoreDNS has no ready pods (${ev.coredns.pods.join('; ') || 'none exist: scaled to 0?'})`,
      'scale CoreDNS up and check why its pods are not ready (kubectl -n kube-system get deploy coredns)',
    );
  if (ev.coredns.directQuery && !ev.coredns.directQuery.startsWith('ok')) {
    return say(
      'anyDns',
      `CoreDNS at ${dnsIP} does not answer kubernetes.default.svc.${clusterDomain} from a node: ${ev.coredns.directQuery}`,
    );
  }
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
  const hairpinOff = ev.nodes.flatMap((n) => n.hairpin ?? []).filter((h) => !h.on);
  if (hairpinOff.length)
    return say(
      'hairpin',
      `hairpin is off for ${hairpinOff.map((h) => `pod ${h.pod}: ${h.description}`).join('; ')}: a pod cannot reach itself through its Service IP`,
    );
  const cause =
    "the Service, its endpoints, kube-proxy and DNS all look right in the evidence; the fault is in the data path (CNI, hairpin, conntrack, or rules outside kube-proxy's chains): see the diagnostics file";
  return { section: fallback, cause, next: titleAndNext(fallback).next, nothingFound: true };
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

/** Ready endpoints a node's rules do not send to, and rule targets that are no ready endpoint. */
export function rulesMismatch(ev: Evidence, node: NodeEvidence): { missing: string[]; stale: string[] } {
  if (!node.programmed) return { missing: [], stale: [] };
  const ready = ev.slices.filter((e) => e.ready).map((e) => e.address);
  return {
    missing: ready.filter((a) => !node.programmed!.includes(a)),
    stale: node.programmed.filter((a) => !ready.includes(a)),
  };
}

export function formatVerdict(v: Verdict): string {
  return `verdict [${titleAndNext(v.section).title}]: ${v.cause} → next: ${v.next}`;
}
