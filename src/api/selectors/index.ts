// Label and field selectors as the API server accepts them in list and watch requests.
export {
  SelectorError,
  everything,
  formatLabelSelector,
  isEverything,
  labelSelectorFromObject,
  labelSelectorToString,
  matchesLabels,
  nothing,
  parseLabelSelector,
  printLabelSelector,
  requirementMatches,
  requirementToString,
  requiresExactLabel,
} from './labels.ts';
export type { LabelSelector, LabelSelectorObject, Operator, Requirement } from './labels.ts';
export {
  escapeValue,
  exactFieldMatch,
  exactFieldValue,
  fieldSelectorTerms,
  fieldSelectorToString,
  fieldsMatch,
  indexedFieldMatch,
  isEmptyFieldSelector,
  parseFieldSelector,
  unescapeValue,
} from './fields.ts';
export type { FieldSelector, FieldTerm } from './fields.ts';
export { convertFieldLabel, fieldValuesFor, supportedFieldLabels, supportedFields, validateFieldSelector } from './field-labels.ts';
