// This project's own section: its title, the step a reader should take when one of its checks
// fails, and a rule of its own for the diagnosis. Defined once, here; the specs import it.
import { section } from 'svc-conformance';

export const echoSection = section('CNI project: echo Service', {
  next: "check the echo Service's targetPort against the echo container's port (8080), then the pod's logs",
  // The diagnosis's evidence names definition problems; this section says what they mean for echo.
  verdict: (evidence) =>
    evidence.definitionProblems[0] &&
    `echo's Service does not lead to the echo container: ${evidence.definitionProblems[0]}`,
});
