import { OUTPUT_OPTIONS, type OptionSpecs } from './args.js';
import { isGroup, type Command, type CommandGroup } from './command.js';

export const BIN = 'ticketpay';

function usageLine(path: string, command: Command): string {
  return `${BIN} ${path}${command.usage ? ` ${command.usage}` : ''} [options]`;
}

function optionLines(options: OptionSpecs): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? '<value>'}` : ''}`;
    return [flag, o.description + (o.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`);
}

export function commandHelp(path: string, command: Command): string {
  return [
    `usage: ${usageLine(path, command)}`,
    '',
    command.summary,
    ...(command.details ? ['', ...command.details] : []),
    '',
    'options:',
    ...optionLines({ ...command.options, ...OUTPUT_OPTIONS }),
  ].join('\n');
}

export function groupHelp(group: CommandGroup): string {
  const width = Math.max(...group.commands.map((c) => c.name.length));
  return [
    `usage: ${BIN} ${group.name} <command> [options]`,
    '',
    group.summary,
    '',
    'commands:',
    ...group.commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run \`${BIN} ${group.name} <command> --help\` for a command's options.`,
  ].join('\n');
}

export function topHelp(entries: readonly (Command | CommandGroup)[]): string {
  const lines = entries.flatMap((e) =>
    isGroup(e)
      ? e.commands.map((c) => [`${e.name} ${c.name}`, c.summary] as const)
      : [[e.name, e.summary] as const],
  );
  const width = Math.max(...lines.map(([name]) => name.length));
  return [
    `usage: ${BIN} <command> [options]`,
    '',
    'Operate ticketpay: the TicketBroker (deposits, reserves, recipients), keystores, winning tickets.',
    '',
    'commands:',
    ...lines.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    'environment:',
    '  ETH_RPC_URL         chain JSON-RPC endpoint (default http://127.0.0.1:8545)',
    '  CONTROLLER_ADDRESS  Controller of the protocol; every other contract is found through it',
    '  DATABASE_URL        Postgres of the services (tickets commands)',
    '  REDIS_URL, REDIS_PREFIX  Redis of the services (tickets redeem)',
    '  KEYSTORE_FILE, KEYSTORE_PASSWORD, KEYSTORE_DIR  signing account and keystore folder',
    'While `npm start` runs, the first four default to what it started (.ticketpay/local-stack.env).',
    '',
    'Every command takes --json (machine-readable stdout; amounts in wei as strings) and --help.',
    'Exit status: 0 success, 1 failure (chain, stores, timeouts), 2 usage or configuration error.',
  ].join('\n');
}
