/** Public surface of the redaction engine. */
export { createRedactor, RedactionConfigError, BUILTIN_DETECTORS, checkDisabledCategories, disableableCategories } from './redactor';
export type { CustomPattern, Finding, RedactionResult, RedactOptions, Redactor, RedactorOptions } from './redactor';
export { RedactionSession, restore, PLACEHOLDER_PATTERN } from './redactionSession';
export { BUILTIN_CATEGORIES, CATEGORY_GROUPS, categorySlug } from './categories';
export type { BuiltinCategory, CategoryInfo, CategoryKind } from './categories';
export type { Detector, FileKind } from './detector';
