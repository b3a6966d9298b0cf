import type { Args, OptionSpecs } from './args.js';
import type { CommandContext } from './context.js';

/** What a command produced: `data` for `--json`, `human` for people. */
export interface CommandResult {
  data: unknown;
  human: readonly string[];
}

export interface Command {
  name: string;
  summary: string;
  /** The positional part of the usage line, e.g. `<amount>`. */
  usage?: string;
  /** Extra help paragraphs. */
  details?: readonly string[];
  /** Command-specific and shared option sets (`--json`/`--help` are added for every command). */
  options: OptionSpecs;
  positionals: { min: number; max: number };
  run(ctx: CommandContext, args: Args): Promise<CommandResult>;
}

export interface CommandGroup {
  name: string;
  summary: string;
  commands: readonly Command[];
}

export function isGroup(entry: Command | CommandGroup): entry is CommandGroup {
  return 'commands' in entry;
}
