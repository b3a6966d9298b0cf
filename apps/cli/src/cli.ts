import { ConfigError, parseEnv } from '#app/common';
import { OUTPUT_OPTIONS, parseCommandArgs } from './args.js';
import { CLI_ENV } from './cli.config.js';
import { CliError, CliErrorCode, usageError } from './cli.error.js';
import { isGroup, type Command, type CommandGroup } from './command.js';
import { chainCommands } from './commands/chain.command.js';
import { conformanceCommand } from './commands/conformance.command.js';
import { devCommands } from './commands/dev.command.js';
import { keystoreCommands } from './commands/keystore.command.js';
import { recipientCommands } from './commands/recipient.command.js';
import { senderCommands } from './commands/sender.command.js';
import { ticketsCommands } from './commands/tickets.command.js';
import { CommandContext, type CliIO } from './context.js';
import { BIN, commandHelp, groupHelp, topHelp } from './help.js';
import { withLocalStack } from './local-stack.js';
import { toJson } from './output.js';

export const COMMANDS: readonly (Command | CommandGroup)[] = [
  chainCommands,
  keystoreCommands,
  senderCommands,
  recipientCommands,
  ticketsCommands,
  devCommands,
  conformanceCommand,
];

const HELP = new Set(['-h', '--help', 'help']);

/** Which command `argv` names, the path printed in its help, and the arguments left for it. */
function resolveCommand(
  argv: readonly string[],
): { command: Command; path: string; rest: string[] } | string {
  const [first, second, ...rest] = argv;
  const entry = COMMANDS.find((e) => e.name === first);
  if (!entry) {
    throw usageError(`unknown command "${first}"; run \`${BIN} --help\` for the list`);
  }
  if (!isGroup(entry)) return { command: entry, path: entry.name, rest: argv.slice(1) };
  if (second === undefined || HELP.has(second)) return groupHelp(entry);
  const command = entry.commands.find((c) => c.name === second);
  if (!command) {
    throw usageError(
      `unknown command "${entry.name} ${second}" (one of: ${entry.commands.map((c) => c.name).join(', ')})`,
    );
  }
  return { command, path: `${entry.name} ${command.name}`, rest };
}

/**
 * Runs one CLI invocation and returns its exit status: 0 success, 1 failure, 2 usage or
 * configuration error. Results go to stdout, progress and errors to stderr; with --json, stdout
 * holds exactly one JSON document (the result, or `{"error": …}`).
 */
export async function run(
  argv: readonly string[],
  rawEnv: Readonly<Record<string, string | undefined>>,
  io: CliIO,
): Promise<number> {
  const json = argv.includes('--json');
  const print = (text: string) => io.stdout.write(`${text}\n`);
  try {
    if (argv.length === 0 || HELP.has(argv[0])) {
      print(topHelp(COMMANDS));
      return argv.length === 0 ? 2 : 0;
    }
    const resolved = resolveCommand(argv);
    if (typeof resolved === 'string') {
      print(resolved);
      return argv.length === 1 ? 2 : 0;
    }
    const { command, path, rest } = resolved;
    const args = parseCommandArgs(rest, { ...command.options, ...OUTPUT_OPTIONS });
    if (args.flag('help')) {
      print(commandHelp(path, command));
      return 0;
    }
    const { min, max } = command.positionals;
    if (args.positionals.length < min || args.positionals.length > max) {
      throw usageError(
        args.positionals.length < min
          ? `missing argument: ${BIN} ${path} ${command.usage ?? ''}`.trimEnd()
          : `unexpected argument "${args.positionals[max]}"`,
      );
    }
    const env = withLocalStack(rawEnv);
    const ctx = new CommandContext(parseEnv(CLI_ENV, env), env, io, args);
    try {
      const result = await command.run(ctx, args);
      print(json ? toJson(result.data) : result.human.join('\n'));
    } finally {
      await ctx.close();
    }
    return 0;
  } catch (err) {
    return report(err, argv, io, json);
  }
}

/** The command path of `argv` as far as it names known commands, e.g. `sender withdraw `. */
function helpPath(argv: readonly string[]): string {
  const entry = COMMANDS.find((e) => e.name === argv[0]);
  if (!entry) return '';
  if (!isGroup(entry)) return `${entry.name} `;
  const command = entry.commands.find((c) => c.name === argv[1]);
  return command ? `${entry.name} ${command.name} ` : `${entry.name} `;
}

function report(err: unknown, argv: readonly string[], io: CliIO, json: boolean): number {
  let code: string;
  let message: string;
  let exit: number;
  let details: unknown;
  if (err instanceof CliError) {
    ({ code, message, details } = err);
    exit = err.exitCode;
  } else if (err instanceof ConfigError) {
    ({ code, message } = err);
    exit = 2;
  } else {
    // A bug or an unclassified failure: its message, never a stack (it may quote inputs).
    code = 'INTERNAL';
    message = err instanceof Error ? err.message : String(err);
    exit = 1;
  }
  const hint =
    err instanceof CliError && err.code === CliErrorCode.USAGE
      ? `\n(see \`${BIN} ${helpPath(argv)}--help\`)`
      : '';
  io.stderr.write(`error: ${message}${hint}\n`);
  if (json) io.stdout.write(`${toJson({ error: { code, message, ...(details ? { details } : {}) } })}\n`);
  return exit;
}
