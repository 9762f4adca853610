// What a CRD write is refused for in its `x-kubernetes-validations` (upstream's apiextensions
// validation): an empty rule, a bad message, reason or fieldPath, a rule or messageExpression that
// does not compile, oldSelf where no old value can correlate, optionalOldSelf without oldSelf.
import type { FieldError } from '../../api/field-errors.ts';
import { invalid, notSupported, required } from '../../api/field-errors.ts';
import { invalidRendered } from '../../api/validation/fields.ts';
import type { JSONSchema } from '../structural.ts';
import { compileRule, normalizeFieldPath } from './compile.ts';
import { schemaType } from './types.ts';

const isObj = (v: unknown): v is JSONSchema => !!v && typeof v === 'object' && !Array.isArray(v);
const REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];
const NEWLINES = /[\n\r]+/;

/** Errors of every rule in a version's schema, whose path is e.g. spec.versions[0].schema.openAPIV3Schema. */
export function validateSchemaRules(schema: JSONSchema, path: string): FieldError[] {
  const errs: FieldError[] = [];
  visit(schema, path, true, undefined, errs);
  return errs;
}

/** `uncorrelatable`: the path of the highest list above whose items no old value correlates with. */
function visit(s: unknown, path: string, resourceRoot: boolean, uncorrelatable: string | undefined, errs: FieldError[]): void {
  if (!isObj(s)) return;
  rulesAt(s, s, path, resourceRoot, uncorrelatable, errs);
  // Rules under allOf validate the same value, with the node's types.
  if (Array.isArray(s.allOf)) s.allOf.forEach((a: unknown, i: number) => isObj(a) && rulesAt(a, s, `${path}.allOf[${i}]`, resourceRoot, uncorrelatable, errs));
  if (isObj(s.properties)) {
    for (const [k, p] of Object.entries(s.properties)) visit(p, `${path}.properties[${k}]`, isObj(p) && p['x-kubernetes-embedded-resource'] === true, uncorrelatable, errs);
  }
  if (isObj(s.items)) {
    const correlates = s['x-kubernetes-list-type'] === 'map';
    visit(s.items, `${path}.items`, s.items['x-kubernetes-embedded-resource'] === true, uncorrelatable ?? (correlates ? undefined : path.replace(/^.*\.openAPIV3Schema/, 'openAPIV3Schema')), errs);
  }
  if (isObj(s.additionalProperties)) visit(s.additionalProperties, `${path}.additionalProperties`, s.additionalProperties['x-kubernetes-embedded-resource'] === true, uncorrelatable, errs);
}

function rulesAt(ruleSchema: JSONSchema, node: JSONSchema, path: string, resourceRoot: boolean, uncorrelatable: string | undefined, errs: FieldError[]): void {
  const rules = Array.isArray(ruleSchema['x-kubernetes-validations']) ? ruleSchema['x-kubernetes-validations'] : [];
  if (!rules.length) return;
  const start = errs.length;
  rules.forEach((r: unknown, i: number) => ruleShape(isObj(r) ? r : {}, `${path}.x-kubernetes-validations[${i}]`, node, errs));
  // As upstream: rules are compiled only when their shape is sound.
  if (errs.length !== start) return;
  const type = schemaType(node, resourceRoot, 'selfType');
  rules.forEach((r: unknown, i: number) => {
    const rule = isObj(r) ? r : {};
    const p = `${path}.x-kubernetes-validations[${i}]`;
    const c = compileRule(rule, type, node);
    if (c.error) errs.push(invalidRendered(`${p}.rule`, renderRule(rule), c.error));
    if (c.messageError) errs.push(invalidRendered(`${p}.messageExpression`, renderRule(rule), c.messageError));
    if (c.usesOldSelf && uncorrelatable) errs.push(invalid(`${p}.rule`, rule.rule, `oldSelf cannot be used on the uncorrelatable portion of the schema within ${uncorrelatable}`));
    else if (!c.usesOldSelf && typeof rule.optionalOldSelf === 'boolean') errs.push(invalid(`${p}.optionalOldSelf`, rule.optionalOldSelf, 'may not be set if oldSelf is not used in rule'));
  });
}

function ruleShape(rule: JSONSchema, p: string, schema: JSONSchema, errs: FieldError[]): void {
  const source = typeof rule.rule === 'string' ? rule.rule.trim() : '';
  const message = typeof rule.message === 'string' ? rule.message : '';
  if (!source) errs.push(required(`${p}.rule`, 'rule is not specified'));
  else if (message && !message.trim()) errs.push(invalid(`${p}.message`, message, 'message must be non-empty if specified'));
  else if (message.length > 2048) errs.push(invalid(`${p}.message`, message.slice(0, 10) + '...', 'message must have a maximum length of 2048 characters'));
  else if (NEWLINES.test(message.trim())) errs.push(invalid(`${p}.message`, message, 'message must not contain line breaks'));
  else if (NEWLINES.test(source) && !message.trim()) errs.push(required(`${p}.message`, 'message must be specified if rule contains line breaks'));
  if (typeof rule.messageExpression === 'string' && rule.messageExpression && !rule.messageExpression.trim()) {
    errs.push(required(`${p}.messageExpression`, 'messageExpression must be non-empty if specified'));
  }
  if (rule.reason !== undefined && !REASONS.includes(rule.reason)) errs.push(notSupported(`${p}.reason`, rule.reason, REASONS));
  const fp = typeof rule.fieldPath === 'string' ? rule.fieldPath : '';
  if (fp && !fp.trim()) errs.push(invalid(`${p}.fieldPath`, fp, 'fieldPath must be non-empty if specified'));
  if (NEWLINES.test(fp)) errs.push(invalid(`${p}.fieldPath`, fp, 'fieldPath must not contain line breaks'));
  if (fp.trim() && typeof normalizeFieldPath(fp.trim(), schema) !== 'string') errs.push(invalid(`${p}.fieldPath`, fp, 'fieldPath must be a valid path'));
}

/** Go's %#v of the internal ValidationRule, which upstream prints as the bad value (pointers shown by value). */
function renderRule(r: JSONSchema): string {
  const q = (v: unknown) => JSON.stringify(typeof v === 'string' ? v : '');
  const reason = typeof r.reason === 'string' ? `(*apiextensions.FieldValueErrorReason)(${q(r.reason)})` : '(*apiextensions.FieldValueErrorReason)(nil)';
  const opt = typeof r.optionalOldSelf === 'boolean' ? `(*bool)(${r.optionalOldSelf})` : '(*bool)(nil)';
  return `apiextensions.ValidationRule{Rule:${q(r.rule)}, Message:${q(r.message)}, MessageExpression:${q(r.messageExpression)}, Reason:${reason}, FieldPath:${q(r.fieldPath)}, OptionalOldSelf:${opt}}`;
}
