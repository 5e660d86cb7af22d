import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import type { CommandFactory } from './command.js';
import { UsageError } from './command.js';

const HERE = dirname(fileURLToPath(import.meta.url));

const ENVIRONMENT = `
Environment:
  PORT, PRONTO_CONFIG, PRONTO_DATA_DIR, REDIS_URL, LOG_LEVEL, OTEL_EXPORTER_OTLP_ENDPOINT

Exit status: 0 success, 1 failure, 2 wrong usage or invalid configuration.`;

/** Where the program writes help, version and errors (the process's stdout and stderr, or a test's). */
export interface CliOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STDIO: CliOutput = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

/** commander puts "(Did you mean --role?)" on a line of its own: a usage error stays one line. */
function outputConfiguration(io: CliOutput) {
  return {
    writeOut: io.out,
    writeErr: io.err,
    outputError: (message: string, write: (text: string) => void) => write(`${message.trim().replaceAll('\n', ' ')}\n`),
  };
}

/** The `pronto` program with every command found under `commands/` (sources or compiled). */
export async function createProgram(io: CliOutput = STDIO): Promise<Command> {
  const program = new Command('pronto')
    .description('real-time RAG chat, search and embeddings')
    .version(VERSION, '-V, --version')
    .addHelpText('after', ENVIRONMENT)
    .showSuggestionAfterError()
    .configureOutput(outputConfiguration(io))
    .exitOverride();
  const dir = join(HERE, 'commands');
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  for (const file of files) {
    const factory = (await import(pathToFileURL(join(dir, file)).href)).default as CommandFactory;
    // Every subcommand fails like the program: through the exit handling below, never process.exit.
    program.addCommand(factory().configureOutput(outputConfiguration(io)).exitOverride());
  }
  return program;
}

/**
 * Runs the CLI and returns the exit status: 0 on success, 2 on a usage or configuration error
 * (a one-line message, every configuration problem listed), 1 on any other failure (the message;
 * the stack too with LOG_LEVEL=debug). A command fails by throwing, never by setting
 * process.exitCode, so the program can run inside a test process.
 */
export async function runCli(argv: string[], io: CliOutput = STDIO): Promise<number> {
  const program = await createProgram(io);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return failure(err, io);
  }
}

function failure(err: unknown, io: CliOutput): number {
  // commander has already printed its own message (or the help or version asked for).
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  if (err instanceof UsageError) {
    io.err(`error: ${err.message}\n`);
    return 2;
  }
  if (err instanceof ConfigError) {
    io.err(`${err.message}\n`);
    return 2;
  }
  const debug = process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace';
  io.err(`${debug && err instanceof Error ? err.stack : `error: ${err instanceof Error ? err.message : String(err)}`}\n`);
  return 1;
}
