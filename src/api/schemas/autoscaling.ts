// autoscaling/v1 Scale: the body of the /scale subresource of StatefulSets.
import { defineComponents } from '../schema.ts';
import { str, int32, refTo, obj, kindSchema, gvk } from './helpers.ts';

const S = 'io.k8s.api.autoscaling.v1.';

defineComponents({
  [S + 'Scale']: kindSchema('The scale of a resource: desired and observed replica counts, read and written through its /scale subresource (kubectl scale uses it).',
    gvk('autoscaling', 'v1', 'Scale'), {
      spec: refTo(S + 'ScaleSpec', 'The desired scale.', { default: {} }),
      status: refTo(S + 'ScaleStatus', 'The current scale. Read-only.', { default: {} }),
    }),
  [S + 'ScaleSpec']: obj('The desired scale.', {
    replicas: int32('The desired number of replicas.'),
  }),
  [S + 'ScaleStatus']: obj('The observed scale.', {
    replicas: int32('The actual number of replicas.', { default: 0 }),
    selector: str('The label selector of the pods counted, in string form (as in kubectl get -l).'),
  }, { required: ['replicas'] }),
});
