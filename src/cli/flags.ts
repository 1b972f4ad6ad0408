// The CLI's flags: the pflag-style parser and help rows shared with berthd (util/pflag.ts).
export { type FlagType, type FlagSpec, type ParseResult, FlagError, HELP_FLAG, Opts, parseFlags, flagUsages } from '../util/pflag.ts';
