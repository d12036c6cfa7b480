/**
 * radl/: IM's native language (grycap/RADL) as a pure library: RADL text and IM's JSON RADL in
 * (parseRadl, parseRadlJson), the same model out (dumpRadlText, dumpRadlJson). Rejections are RadlErrors
 * naming file, line and column. Imports nothing from server/ or connectors/.
 */
export { RadlError, type RadlErrorCode, type Loc } from './errors';
export * from './model';
export { parseRadl } from './parser';
export { parseRadlJson, dumpRadlJson, radlToSimple, featuresToSimple, type Simple } from './json';
export { unitToValue } from './units';
export { dumpRadlText, featuresText, radlName, radlString } from './text';
export { mergeRadl, mergeReconfigure } from './merge';
