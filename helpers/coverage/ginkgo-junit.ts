// Each upstream test's outcome in the junit_01.xml e2e.test writes under ginkgo (--report-dir): the
// spec's state (ginkgo's reporters/junit_report.go: passed, skipped, pending, failed, timedout,
// panicked, interrupted, aborted) and the message that says why it did not pass.

export type UpstreamOutcome = 'passed' | 'failed' | 'skipped';

/** One `[It]` of the report. */
export interface GinkgoCase {
  /** The spec's full text (its containers' texts and its own), without the leading "[It] ". */
  name: string;
  outcome: UpstreamOutcome;
  /** ginkgo's state, e.g. timedout. */
  state: string;
  /** The skip or failure message, whole (empty for a pass). */
  message: string;
}

const unescapeXml = (s: string) =>
  s
    .replace(/&#x([0-9a-fA-F]+);/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

const attribute = (tag: string, name: string) => unescapeXml(new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1] ?? '');

/** The report's specs (ginkgo's suite-level nodes, such as [SynchronizedBeforeSuite], left out). */
export function parseGinkgoJunit(xml: string): GinkgoCase[] {
  const cases = [...xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)];
  return cases
    .map(([, attributes, , body = '']) => ({ name: attribute(attributes, 'name'), attributes, body }))
    .filter(({ name }) => name.startsWith('[It] '))
    .map(({ name, attributes, body }) => {
      const state = attribute(attributes, 'status');
      const outcome: UpstreamOutcome =
        state === 'passed' ? 'passed' : state === 'skipped' || state === 'pending' ? 'skipped' : 'failed';
      // Upstream's framework leaves a failure's message attribute empty (OmitFailureMessageAttr):
      // its text is the element's, "[FAILED] what went wrong" then "In [It] at: file:line".
      const [, detail = '', text = ''] = /<(?:skipped|failure|error)\b([^>]*?)(?:\/>|>([^<]*)<)/.exec(body) ?? [];
      const said = attribute(detail, 'message') || unescapeXml(text).replace(/^\[(FAILED|TIMEDOUT|PANICKED)\] /, '');
      const message = outcome === 'skipped' ? said.replace(/^skipped( - )?/, '') : said;
      return { name: name.slice('[It] '.length), outcome, state, message };
    });
}

/** The case of one upstream title (upstream's framework writes no labels after the name: OmitSpecLabels). */
export const caseOf = (cases: GinkgoCase[], title: string) => cases.find((c) => c.name === title);
