import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { apiErrorLine } from '../cluster/attach.js';
import { refusal } from './control-plane.js';

// The Status the API server sent when a spec created its client pod while kube-controller-manager was stopped.
const NO_ACCOUNT =
  'pods "client" is forbidden: error looking up service account clusterip-r1a2b3c4/default: serviceaccount "default" not found';
const status = (message: string) =>
  JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Forbidden',
    code: 403,
  });

describe('a setup error in one line', () => {
  it("keeps the API's Status message of the client's ApiException, not its body and headers", () => {
    for (const body of [status(NO_ACCOUNT), JSON.parse(status(NO_ACCOUNT))]) {
      const error = new ApiException(403, 'Unknown API Status Code!', body, { 'content-type': 'application/json' });
      expect(apiErrorLine(error.message)).toBe(`403 ${NO_ACCOUNT}`);
    }
  });

  it('keeps the first line of any other error', () => {
    expect(apiErrorLine('waiting for pods: timed out\n    at x (y.ts:1:1)')).toBe('waiting for pods: timed out');
  });
});

describe('what refused a create', () => {
  it('names a missing ServiceAccount, a ValidatingAdmissionPolicy, a webhook and Pod Security', () => {
    expect(refusal(NO_ACCOUNT)?.part).toBe("kube-controller-manager's serviceaccount controller");
    expect(
      refusal(
        `Error creating: pods "h-1" is forbidden: ValidatingAdmissionPolicy 'require-limits' with binding 'require-limits' denied request: every container must set a memory limit`,
      ),
    ).toEqual({
      part: 'admission: ValidatingAdmissionPolicy require-limits',
      reason: 'every container must set a memory limit',
    });
    expect(refusal('admission webhook "validate.example.com" denied the request: no')?.part).toBe(
      'admission: webhook validate.example.com',
    );
    expect(
      refusal('pods "x" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false')
        ?.part,
    ).toBe('admission: Pod Security (restricted:latest)');
    expect(refusal('pods "x" already exists')).toBeUndefined();
  });
});
