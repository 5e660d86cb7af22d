import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import type { CommandFactory } from './command.js';
import { UsageError } from './command.js';

const HERE = dirname(fileURLToPath(import.meta.url));

const ENVIRONMENT = `
Environment:
  PORT, PRONTO_CONFIG, PRONTO_DATA_DIR, REDIS_URL, LOG_LEVEL, OTEL_EXPORTER_OTLP_ENDPOINT

Exit status: 0 success, 1 failure, 2 wrong usage or invalid configuration.`;

/** commander puts "(Did you mean --role?)" on a line of its own: a usage error stays one line. */
const ONE_LINE_ERRORS = { outputError: (message: string, write: (text: string) => void) => write(`${message.trim().replaceAll('\n', ' ')}\n`) };

/** The `pronto` program with every command found under `commands/` (sources or compiled). */
export async function createProgram(): Promise<Command> {
  const program = new Command('pronto')
    .description('real-time RAG chat, search and embeddings')
    .version(packageVersion(), '-V, --version')
    .addHelpText('after', ENVIRONMENT)
    .showSuggestionAfterError()
    .configureOutput(ONE_LINE_ERRORS)
    .exitOverride();
  const dir = join(HERE, 'commands');
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  for (const file of files) {
    const factory = (await import(pathToFileURL(join(dir, file)).href)).default as CommandFactory;
    // Every subcommand fails like the program: through the exit handling below, never process.exit.
    program.addCommand(factory().configureOutput(ONE_LINE_ERRORS).exitOverride());
  }
  return program;
}

/**
 * Runs the CLI and returns the exit status: 0 on success, 2 on a usage or configuration error
 * (a one-line message, every configuration problem listed), 1 on any other failure (the message;
 * the stack too with LOG_LEVEL=debug).
 */
export async function runCli(argv: string[]): Promise<number> {
  const program = await createProgram();
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return failure(err);
  }
}

function failure(err: unknown): number {
  // commander has already printed its own message (or the help or version asked for).
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof UsageError) {
    console.error(`error: ${err.message}`);
    return 2;
  }
  if (err instanceof ConfigError) {
    console.error(err.message);
    return 2;
  }
  const debug = process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace';
  console.error(debug && err instanceof Error ? err.stack : `error: ${err instanceof Error ? err.message : String(err)}`);
  return 1;
}

/** The version in package.json, found from src/cli or dist/src/cli. */
function packageVersion(): string {
  for (let dir = HERE; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}
