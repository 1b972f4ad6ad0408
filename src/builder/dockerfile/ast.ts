// What the Dockerfile parser gives the builder: the parser directives and one entry per
// instruction, with its flags split off and its arguments in JSON (exec) or shell form.
// Variable expansion is not done here: which instructions expand, and with which variables,
// is the builder's business (it calls expand.ts).

export interface Directives {
  /** `# escape=` — `\` by default, or a backtick. */
  escape: '\\' | '`';
  /** `# syntax=` (recorded; the classic builder ignores it). */
  syntax?: string;
  /** `# check=` and other directives seen, verbatim. */
  other: Record<string, string>;
}

export interface Heredoc {
  /** The delimiter word (`EOF` in `<<EOF`). */
  name: string;
  content: string;
  /** false when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`): no expansion inside. */
  expand: boolean;
  /** `<<-EOF`: leading tabs stripped from every line. */
  chomp: boolean;
}

export interface Instruction {
  /** The keyword, lowercase: `from`, `run`, `copy`, … (unknown keywords are a parse error). */
  cmd: string;
  /** 1-based line of the keyword, and of the instruction's last line (continuations, heredocs). */
  line: number;
  endLine: number;
  /** The instruction as written, continuations joined: what `docker history` and errors show. */
  original: string;
  /** `--name=value` flags before the arguments, in order; a flag without `=` has value ''. */
  flags: { name: string; value: string }[];
  /** true: args came from a JSON array (exec form). */
  json: boolean;
  /**
   * JSON form: the array's strings. Shell form: for RUN, CMD, ENTRYPOINT and SHELL the rest of the
   * line as one string (continuations joined, comments inside continuations dropped); for every
   * other instruction the rest of the line as one string too — the builder splits it with
   * expand.ts, which knows the quoting rules.
   */
  args: string[];
  /** Heredocs started on this instruction's line, in order. */
  heredocs: Heredoc[];
}

export interface ParsedDockerfile {
  directives: Directives;
  instructions: Instruction[];
  /** Non-fatal findings (e.g. an empty continuation line), with line numbers. */
  warnings: string[];
}
