import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SelectorError,
  convertFieldLabel,
  exactFieldMatch,
  fieldSelectorToString,
  fieldValuesFor,
  fieldsMatch,
  formatLabelSelector,
  indexedFieldMatch,
  labelSelectorFromObject,
  labelSelectorToString,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  printLabelSelector,
  requiresExactLabel,
  supportedFieldLabels,
  validateFieldSelector,
} from '../../src/api/selectors/index.ts';

const nameRegexHint =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const valueRegexHint =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SelectorError, 'throws SelectorError');
    return e.message;
  }
  assert.fail('expected an error');
}

test('label selector: valid syntax and its canonical string', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['   ', ''],
    ['app=nginx', 'app=nginx'],
    ['app==nginx', 'app==nginx'],
    ['app!=nginx', 'app!=nginx'],
    ['  app = nginx ,  tier  ', 'app=nginx,tier'],
    ['tier,app=web', 'app=web,tier'],
    ['!canary', '!canary'],
    ['x in (b,a,a)', 'x in (a,b)'],
    ['x notin (a)', 'x notin (a)'],
    ['x in (foo,,baz),y,z notin ()', 'x in (,baz,foo),y,z notin ()'],
    ['x in (,a)', 'x in (,a)'],
    ['x in (a,)', 'x in (,a)'],
    ['x=', 'x='],
    ['x=,y', 'x=,y'],
    ['rev>3', 'rev>3'],
    ['rev<10', 'rev<10'],
    ['in in (in,notin)', 'in in (in,notin)'],
    ['example.com/app=web', 'example.com/app=web'],
    ['statefulset.kubernetes.io/pod-name=web-0', 'statefulset.kubernetes.io/pod-name=web-0'],
    ['a=1,a=2', 'a=1,a=2'],
  ];
  for (const [input, want] of cases) assert.equal(labelSelectorToString(parseLabelSelector(input)), want, input);
});

test('label selector: parse errors carry upstream messages', () => {
  const cases: [string, string][] = [
    ['x==a==b', "found '==', expected: ',' or 'end of string'"],
    ['!x=a', "found '=', expected: ',' or 'end of string'"],
    ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['x in a', "unable to parse requirement: found 'a' expected: '('"],
    ['x in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['x in (a b)', "unable to parse requirement: found 'b', expected: ',' or ')'"],
    ['x=(', "unable to parse requirement: found '(', expected: identifier"],
    ['x>=1', "unable to parse requirement: found '=', expected: identifier"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['x!!=a', "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"],
    ['!!x', "unable to parse requirement: found '!', expected: identifier"],
    ['x=a,', "found '', expected: identifier after ','"],
    ['x=a,,y=b', "found ',', expected: identifier after ','"],
    ['a=b!c', "found '!', expected: ',' or 'end of string'"],
    ['_x=a', `unable to parse requirement: <nil>: Invalid value: "_x": name part ${nameRegexHint}`],
    ['a/b/c', `unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name ${nameRegexHint} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`],
    ['/x', 'unable to parse requirement: <nil>: Invalid value: "/x": prefix part must be non-empty'],
    ['x=a||y', `unable to parse requirement: values[0][x]: Invalid value: "a||y": ${valueRegexHint}`],
    ['x>a', `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`],
    // Negative numbers parse as integers but are not valid label values.
    ['rev<-3', `unable to parse requirement: values[0][rev]: Invalid value: "-3": ${valueRegexHint}`],
    ['x<1.5', `unable to parse requirement: values[0]: Invalid value: "1.5": for 'Gt', 'Lt' operators, the value must be an integer`],
    [
      'x>-a',
      `unable to parse requirement: [values[0]: Invalid value: "-a": for 'Gt', 'Lt' operators, the value must be an integer, values[0][x]: Invalid value: "-a": ${valueRegexHint}]`,
    ],
    ['x=' + 'a'.repeat(64), `unable to parse requirement: values[0][x]: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`],
  ];
  for (const [input, want] of cases) assert.equal(errorOf(() => parseLabelSelector(input)), want, input);
});

test('label selector: matching', () => {
  const labels = { app: 'web', tier: 'frontend', rev: '7', empty: '' };
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app in (db,web)', true],
    ['app in (db)', false],
    ['missing in (x)', false],
    ['app notin (db)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['empty=', true],
    ['empty in ()', true],
    ['missing=', false],
    ['rev>6', true],
    ['rev>7', false],
    ['rev<8', true],
    ['rev<7', false],
    ['app>1', false],
    ['missing<1', false],
    ['app=web,tier=frontend', true],
    ['app=web,tier=backend', false],
  ];
  for (const [s, want] of cases) {
    const sel = parseLabelSelector(s);
    assert.equal(matchesLabels(sel, labels), want, s);
    assert.equal(sel.matches(labels), want, `${s} (method)`);
  }
  assert.equal(matchesLabels(parseLabelSelector('!app'), undefined), true);
  assert.equal(matchesLabels(parseLabelSelector('app'), null), false);
});

test('label selector objects (metav1.LabelSelector)', () => {
  assert.equal(formatLabelSelector({ matchLabels: { app: 'nginx' } }), 'app=nginx');
  assert.equal(
    formatLabelSelector({
      matchLabels: { b: '1', a: '2' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'dev'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'zone', operator: 'NotIn', values: ['z1'] },
        { key: 'has', operator: 'Exists', values: [] },
      ],
    }),
    'a=2,b=1,!canary,env in (dev,prod),has,zone notin (z1)',
  );
  const sel = labelSelectorFromObject({ matchLabels: { app: 'nginx' }, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['test'] }] });
  assert.equal(matchesLabels(sel, { app: 'nginx' }), true);
  assert.equal(matchesLabels(sel, { app: 'nginx', env: 'test' }), false);
  assert.equal(matchesLabels(sel, { app: 'other' }), false);

  // Empty selects everything; null selects nothing.
  assert.equal(matchesLabels(labelSelectorFromObject({}), { any: 'thing' }), true);
  assert.equal(matchesLabels(labelSelectorFromObject({ matchLabels: {}, matchExpressions: [] }), {}), true);
  assert.equal(matchesLabels(labelSelectorFromObject(null), {}), false);
  assert.equal(matchesLabels(labelSelectorFromObject(undefined), { a: 'b' }), false);
  assert.equal(formatLabelSelector({}), '');
  assert.equal(printLabelSelector({}), '<none>');
  assert.equal(printLabelSelector({ matchLabels: { app: 'x' } }), 'app=x');
  assert.equal(printLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }), '<error>');

  const errors: [object, string][] = [
    [{ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, '"Bogus" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist'],
    [{ matchLabels: { '-a': 'b' } }, `key: Invalid value: "-a": name part ${nameRegexHint}`],
    [{ matchLabels: { a: 'b c' } }, `values[0][a]: Invalid value: "b c": ${valueRegexHint}`],
  ];
  for (const [obj, want] of errors) assert.equal(errorOf(() => labelSelectorFromObject(obj)), want, JSON.stringify(obj));
});

test('label selector exact-match introspection', () => {
  assert.equal(requiresExactLabel(parseLabelSelector('app=web,tier in (a)'), 'app'), 'web');
  assert.equal(requiresExactLabel(parseLabelSelector('app=web,tier in (a)'), 'tier'), 'a');
  assert.equal(requiresExactLabel(parseLabelSelector('tier in (a,b)'), 'tier'), undefined);
  assert.equal(requiresExactLabel(parseLabelSelector('app!=web'), 'app'), undefined);
  assert.equal(requiresExactLabel(parseLabelSelector('app=web'), 'other'), undefined);
});

test('field selector: parsing, escaping and canonical string', () => {
  const cases: [string, [string, string, string][], string][] = [
    ['', [], ''],
    ['spec.nodeName=node-1', [['spec.nodeName', '=', 'node-1']], 'spec.nodeName=node-1'],
    ['metadata.name==web-0', [['metadata.name', '=', 'web-0']], 'metadata.name=web-0'],
    ['status.phase!=Running,spec.nodeName=n', [['spec.nodeName', '=', 'n'], ['status.phase', '!=', 'Running']], 'spec.nodeName=n,status.phase!=Running'],
    ['spec.nodeName=', [['spec.nodeName', '=', '']], 'spec.nodeName='],
    ['a=b\\,c', [['a', '=', 'b,c']], 'a=b\\,c'],
    ['a=b\\=c\\\\d', [['a', '=', 'b=c\\d']], 'a=b\\=c\\\\d'],
    ['a=x,', [['a', '=', 'x']], 'a=x'],
    [',a=x,,', [['a', '=', 'x']], 'a=x'],
    ['a=!b', [['a', '=', '!b']], 'a=!b'],
  ];
  for (const [input, terms, str] of cases) {
    const sel = parseFieldSelector(input);
    assert.deepEqual(sel.terms.map((t) => [t.field, t.op, t.value]), terms, input);
    assert.equal(fieldSelectorToString(sel), str, input);
  }
  const errors: [string, string][] = [
    ['abc', "invalid selector: 'abc'; can't understand 'abc'"],
    ['a=1,abc', "invalid selector: 'a=1,abc'; can't understand 'abc'"],
    ['a=b=c', 'invalid field selector: unescaped character in value: ='],
    ['a=b\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
  ];
  for (const [input, want] of errors) assert.equal(errorOf(() => parseFieldSelector(input)), want, input);
});

test('field selector: matching against field values', () => {
  const values = { 'metadata.name': 'web-0', 'spec.nodeName': 'node-1', 'status.phase': 'Running' };
  const cases: [string, boolean][] = [
    ['', true],
    ['metadata.name=web-0', true],
    ['metadata.name=web-1', false],
    ['metadata.name!=web-1', true],
    ['spec.nodeName=node-1,status.phase!=Succeeded', true],
    ['spec.nodeName=node-1,status.phase=Pending', false],
    ['spec.unknown=', true],
    ['spec.unknown!=', false],
  ];
  for (const [s, want] of cases) assert.equal(fieldsMatch(parseFieldSelector(s), values), want, s);
});

test('field labels per kind, with upstream errors for unsupported ones', () => {
  assert.equal(convertFieldLabel('Pod', 'spec.nodeName'), 'spec.nodeName');
  assert.equal(convertFieldLabel('Pod', 'spec.host'), 'spec.nodeName');
  assert.equal(convertFieldLabel('Event', 'involvedObject.name'), 'involvedObject.name');
  assert.equal(convertFieldLabel('Secret', 'type'), 'type');
  assert.equal(convertFieldLabel('Node', 'spec.unschedulable'), 'spec.unschedulable');
  assert.equal(convertFieldLabel('Namespace', 'status.phase'), 'status.phase');
  assert.equal(convertFieldLabel('Service', 'spec.clusterIP'), 'spec.clusterIP');
  assert.equal(convertFieldLabel('StatefulSet', 'metadata.namespace'), 'metadata.namespace');
  assert.equal(errorOf(() => convertFieldLabel('Pod', 'foo')), 'field label not supported: foo');
  assert.equal(errorOf(() => convertFieldLabel('Node', 'metadata.namespace')), 'field label not supported: metadata.namespace');
  assert.equal(errorOf(() => convertFieldLabel('Secret', 'data')), 'field label not supported: data');
  assert.equal(
    errorOf(() => convertFieldLabel('StatefulSet', 'status.replicas')),
    '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
  );
  assert.ok(supportedFieldLabels('Pod').includes('status.podIP'));
  assert.deepEqual(supportedFieldLabels('PersistentVolumeClaim'), ['metadata.name', 'metadata.namespace']);

  const v = validateFieldSelector('Pod', parseFieldSelector('spec.host=node-1,metadata.name=web-0'));
  assert.equal(fieldSelectorToString(v), 'metadata.name=web-0,spec.nodeName=node-1');
  assert.equal(errorOf(() => validateFieldSelector('Pod', parseFieldSelector('metadata.name=a,bogus=1'))), 'field label not supported: bogus');
});

test('field values of objects', () => {
  const pod = {
    metadata: { name: 'web-0', namespace: 'default' },
    spec: { nodeName: 'node-1', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default' },
    status: { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }] },
  };
  assert.deepEqual(fieldValuesFor('Pod', pod), {
    'metadata.name': 'web-0',
    'metadata.namespace': 'default',
    'spec.nodeName': 'node-1',
    'spec.restartPolicy': 'Always',
    'spec.schedulerName': 'default-scheduler',
    'spec.serviceAccountName': 'default',
    'spec.hostNetwork': 'false',
    'status.phase': 'Running',
    'status.podIP': '10.0.0.5',
    'status.nominatedNodeName': '',
  });
  const pending = fieldValuesFor('Pod', { metadata: { name: 'p', namespace: 'ns' }, spec: { hostNetwork: true }, status: { phase: 'Pending' } });
  assert.deepEqual([pending['spec.nodeName'], pending['spec.hostNetwork'], pending['status.podIP']], ['', 'true', '']);
  assert.equal(fieldsMatch(parseFieldSelector('spec.nodeName='), pending), true);
  assert.equal(fieldsMatch(parseFieldSelector('spec.nodeName=node-1,status.phase!=Succeeded'), fieldValuesFor('Pod', pod)), true);

  assert.deepEqual(fieldValuesFor('Node', { metadata: { name: 'n1' }, spec: { unschedulable: true } }), {
    'metadata.name': 'n1',
    'metadata.namespace': '',
    'spec.unschedulable': 'true',
  });
  assert.equal(fieldValuesFor('Node', { metadata: { name: 'n1' } })['spec.unschedulable'], 'false');
  assert.equal(fieldValuesFor('Namespace', { metadata: { name: 'x' }, status: { phase: 'Terminating' } })['status.phase'], 'Terminating');
  assert.equal(fieldValuesFor('Secret', { metadata: { name: 's' }, type: 'kubernetes.io/tls' }).type, 'kubernetes.io/tls');
  assert.equal(fieldValuesFor('Service', { metadata: { name: 's' }, spec: { clusterIP: 'None', type: 'ClusterIP' } })['spec.clusterIP'], 'None');

  const ev = fieldValuesFor('Event', {
    metadata: { name: 'web-0.1', namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-0', uid: 'u1', apiVersion: 'v1', resourceVersion: '42', fieldPath: 'spec.containers{nginx}' },
    reason: 'Started',
    type: 'Normal',
    reportingComponent: 'kubelet',
  });
  assert.deepEqual(ev, {
    'metadata.name': 'web-0.1',
    'metadata.namespace': 'default',
    'involvedObject.kind': 'Pod',
    'involvedObject.namespace': 'default',
    'involvedObject.name': 'web-0',
    'involvedObject.uid': 'u1',
    'involvedObject.apiVersion': 'v1',
    'involvedObject.resourceVersion': '42',
    'involvedObject.fieldPath': 'spec.containers{nginx}',
    reason: 'Started',
    reportingComponent: 'kubelet',
    source: 'kubelet',
    type: 'Normal',
  });
  assert.equal(fieldValuesFor('Event', { metadata: { name: 'e' }, source: { component: 'sched' }, reportingComponent: 'x' }).source, 'sched');
  for (const kind of supportedFieldLabels('Event')) assert.ok(kind in ev, `event offers ${kind}`);
  assert.deepEqual(fieldValuesFor('StatefulSet', { metadata: { name: 'web', namespace: 'default' } }), { 'metadata.name': 'web', 'metadata.namespace': 'default' });
});

test('exact-match helpers for indexed lookups', () => {
  const sel = parseFieldSelector('status.phase!=Failed,spec.nodeName=node-1');
  assert.equal(exactFieldMatch(sel, 'spec.nodeName'), 'node-1');
  assert.equal(exactFieldMatch(sel, 'status.phase'), undefined);
  assert.equal(exactFieldMatch(sel, 'metadata.name'), undefined);
  assert.deepEqual(indexedFieldMatch(sel, ['metadata.name', 'spec.nodeName']), { field: 'spec.nodeName', value: 'node-1' });
  assert.deepEqual(indexedFieldMatch(parseFieldSelector('metadata.name=web-0,spec.nodeName=n'), ['metadata.name', 'spec.nodeName']), { field: 'metadata.name', value: 'web-0' });
  assert.equal(indexedFieldMatch(parseFieldSelector('spec.nodeName!=n'), ['spec.nodeName']), undefined);
  assert.equal(indexedFieldMatch(parseFieldSelector(''), ['spec.nodeName']), undefined);
  // An unscheduled-pods query is still an exact match on the empty node name.
  assert.deepEqual(indexedFieldMatch(parseFieldSelector('spec.nodeName='), ['spec.nodeName']), { field: 'spec.nodeName', value: '' });
});
